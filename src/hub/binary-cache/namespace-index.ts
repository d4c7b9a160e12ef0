/**
 * What each owner's cache namespace holds, in memory: its paths (references, NAR file, size) and the
 * NAR files its writers uploaded that no narinfo names yet. Loaded from disk on first use and again
 * whenever the namespace directory changed behind the hub's back (`imageless hub gc` removing files);
 * the hub's own uploads update it directly.
 */
import type { Logger } from "../../log/logger.js";
import { namespaceStamp, narFileSize, readNamespace } from "./cache-files.js";
import { hashPart, type NarInfo, parseNarInfo } from "./narinfo.js";

/** One path of a namespace. */
export interface NamespacePath {
  /** Hash parts of its references. */
  readonly references: readonly string[];
  /** `nar/<file>` */
  readonly url: string;
  /** The stored NAR file's size (what the namespace's quota counts). */
  readonly fileSize: number;
  readonly info: NarInfo;
}

interface Namespace {
  stamp: string;
  readonly paths: Map<string, NamespacePath>;
}

/** The namespaces of one hub data directory. */
export class NamespaceIndex {
  readonly #dataDir: string;
  readonly #log: Logger;
  readonly #namespaces = new Map<string, Promise<Namespace>>();
  /** owner → NAR file → size, uploaded and not yet named by one of the owner's narinfos */
  readonly #pending = new Map<string, Map<string, number>>();

  constructor(dataDir: string, log: Logger) {
    this.#dataDir = dataDir;
    this.#log = log;
  }

  /** The paths of `owner`'s namespace by hash part (read from disk when it changed). */
  async paths(owner: string): Promise<ReadonlyMap<string, NamespacePath>> {
    const stamp = await namespaceStamp(this.#dataDir, owner);
    const known = this.#namespaces.get(owner);
    if (known !== undefined && (await known).stamp === stamp) return (await known).paths;
    const loading = this.#load(owner, stamp);
    this.#namespaces.set(owner, loading);
    loading.catch(() => this.#namespaces.delete(owner));
    return (await loading).paths;
  }

  /** Records a narinfo the hub stored in `owner`'s namespace. */
  async add(owner: string, hash: string, info: NarInfo, fileSize: number): Promise<void> {
    this.#pending.get(owner)?.delete(info.url.slice("nar/".length));
    const known = this.#namespaces.get(owner);
    // Not loaded yet: the first read loads the new file with the rest.
    if (known === undefined) return;
    const namespace = await known;
    namespace.paths.set(hash, entryOf(info, fileSize));
    // The hub's own write changed the directory; this index already knows what it added, so the
    // next read must not load the whole namespace again (a closure of n paths would read n² files).
    namespace.stamp = await namespaceStamp(this.#dataDir, owner);
  }

  /** Records a NAR file a writer of `owner` uploaded (usable by `owner`'s narinfos from now on). */
  addPending(owner: string, file: string, size: number): void {
    const pending = this.#pending.get(owner) ?? new Map<string, number>();
    pending.set(file, size);
    this.#pending.set(owner, pending);
  }

  /** True when `owner`'s namespace may name `nar/<file>`: one of its narinfos does, or it uploaded it. */
  async hasNar(owner: string, file: string): Promise<boolean> {
    if (this.#pending.get(owner)?.has(file) === true) return true;
    for (const path of (await this.paths(owner)).values()) if (path.url === `nar/${file}`) return true;
    return false;
  }

  /** The NAR bytes `owner`'s namespace holds (each file once), uploads on their way included. */
  async usage(owner: string): Promise<number> {
    const pending = this.#pending.get(owner) ?? new Map<string, number>();
    // `hub gc` removes NAR files no narinfo names: those no longer count.
    for (const file of [...pending.keys()]) {
      if ((await narFileSize(this.#dataDir, file)) === undefined) pending.delete(file);
    }
    const sizes = new Map<string, number>(pending);
    for (const path of (await this.paths(owner)).values())
      sizes.set(path.url.slice("nar/".length), path.fileSize);
    let total = 0;
    for (const size of sizes.values()) total += size;
    return total;
  }

  async #load(owner: string, stamp: string): Promise<Namespace> {
    const paths = new Map<string, NamespacePath>();
    for (const { hash, text } of await readNamespace(this.#dataDir, owner)) {
      try {
        const info = parseNarInfo(text, `${owner}/${hash}.narinfo`);
        const size = Number(info.fields.find(([key]) => key === "FileSize")?.[1] ?? info.narSize);
        paths.set(hash, entryOf(info, Number.isSafeInteger(size) ? size : info.narSize));
      } catch (error) {
        this.#log.warn("hub.cache.narinfo_unreadable", { owner, hash, error: String(error) });
      }
    }
    return { stamp, paths };
  }
}

function entryOf(info: NarInfo, fileSize: number): NamespacePath {
  return { references: info.references.map(hashPart), url: info.url, fileSize, info };
}
