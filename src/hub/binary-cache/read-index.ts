/**
 * Which environments make each cached path readable, kept in memory and brought up to date cheaply:
 * narinfo references are loaded once and extended on upload; an owner's locks are re-read only when
 * its repository's refs changed (the mtimes of `refs/heads` and `packed-refs`, which every ref update
 * touches), and only for branches whose tip moved. A path that no environment makes readable
 * triggers that check, so a push is visible to the very next request; a hit needs no IO at all,
 * since locks are only ever added (history only grows).
 */
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../../log/logger.js";
import { gitRoot, listBranches, repoPath } from "../git-repos.js";
import { readAllNarInfos } from "./cache-files.js";
import { readersByPath } from "./closure.js";
import { readLockedPaths } from "./locked-paths.js";
import { hashPart, parseNarInfo } from "./narinfo.js";

interface CachedPath {
  readonly references: readonly string[];
  /** `nar/<file>` */
  readonly url: string;
}

interface OwnerState {
  readonly stamp: string;
  /** branch → its tip and the hash parts its locks list */
  readonly branches: ReadonlyMap<string, { readonly tip: string; readonly roots: ReadonlySet<string> }>;
}

/** The readers of cached paths, for one hub data directory. */
export class CacheReadIndex {
  readonly #dataDir: string;
  readonly #log: Logger;
  #paths: Promise<Map<string, CachedPath>> | undefined;
  readonly #owners = new Map<string, OwnerState>();
  /** `nar/<file>` → hash parts of the narinfos pointing at it */
  readonly #nars = new Map<string, Set<string>>();
  #readers: Map<string, string[]> | undefined;
  #refreshing: Promise<void> | undefined;

  constructor(dataDir: string, log: Logger) {
    this.#dataDir = dataDir;
    this.#log = log;
  }

  /** The environments (`owner/name`) through which the path with hash part `hash` is readable. */
  async readersOf(hash: string): Promise<readonly string[]> {
    const known = (await this.#currentReaders()).get(hash);
    if (known !== undefined) return known;
    await this.#refresh();
    return (await this.#currentReaders()).get(hash) ?? [];
  }

  /** Hash parts of the narinfos whose URL is `nar/<file>`. */
  async pathsOfNar(file: string): Promise<string[]> {
    await this.#loadPaths();
    return [...(this.#nars.get(`nar/${file}`) ?? [])];
  }

  /** Records an uploaded narinfo (its references extend closures). */
  async add(hash: string, references: readonly string[], url: string): Promise<void> {
    (await this.#loadPaths()).set(hash, { references: references.map(hashPart), url });
    this.#addNar(url, hash);
    this.#readers = undefined;
  }

  async #currentReaders(): Promise<Map<string, string[]>> {
    if (this.#readers !== undefined) return this.#readers;
    const paths = await this.#loadPaths();
    if (this.#owners.size === 0) await this.#refresh();
    const roots = new Map<string, ReadonlySet<string>>();
    for (const [owner, state] of this.#owners) {
      for (const [name, branch] of state.branches) roots.set(`${owner}/${name}`, branch.roots);
    }
    this.#readers = readersByPath(roots, (hash) => paths.get(hash)?.references);
    return this.#readers;
  }

  #loadPaths(): Promise<Map<string, CachedPath>> {
    this.#paths ??= readAllNarInfos(this.#dataDir).then((all) => {
      const paths = new Map<string, CachedPath>();
      for (const { hash, text } of all) {
        try {
          const info = parseNarInfo(text, `${hash}.narinfo`);
          paths.set(hash, { references: info.references.map(hashPart), url: info.url });
          this.#addNar(info.url, hash);
        } catch (error) {
          this.#log.warn("hub.cache.narinfo_unreadable", { hash, error: String(error) });
        }
      }
      return paths;
    });
    return this.#paths;
  }

  #addNar(url: string, hash: string): void {
    const hashes = this.#nars.get(url) ?? new Set<string>();
    hashes.add(hash);
    this.#nars.set(url, hashes);
  }

  /** Re-reads the owners whose refs changed; concurrent callers share one pass. */
  #refresh(): Promise<void> {
    this.#refreshing ??= this.#refreshOwners().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #refreshOwners(): Promise<void> {
    const owners = await readdir(gitRoot(this.#dataDir)).catch(() => [] as string[]);
    for (const owner of owners) {
      const stamp = await refsStamp(repoPath(this.#dataDir, owner));
      if (stamp === undefined || this.#owners.get(owner)?.stamp === stamp) continue;
      const previous = this.#owners.get(owner)?.branches;
      const branches = new Map<string, { tip: string; roots: ReadonlySet<string> }>();
      for (const [name, tip] of await listBranches(this.#dataDir, owner)) {
        const same = previous?.get(name);
        const roots =
          same?.tip === tip
            ? same.roots
            : await readLockedPaths(repoPath(this.#dataDir, owner), tip, {
                environment: `${owner}/${name}`,
                log: this.#log,
              });
        branches.set(name, { tip, roots });
      }
      this.#owners.set(owner, { stamp, branches });
      this.#readers = undefined;
    }
  }
}

const RACY_NS = 2_000_000_000n;

/** A value that changes whenever a ref of the repository is updated, or undefined without a repository. */
async function refsStamp(repo: string): Promise<string | undefined> {
  const heads = await stat(join(repo, "refs", "heads"), { bigint: true }).catch(() => undefined);
  if (heads === undefined) return undefined;
  const packed = await stat(join(repo, "packed-refs"), { bigint: true }).catch(() => undefined);
  const newest = packed !== undefined && packed.mtimeNs > heads.mtimeNs ? packed.mtimeNs : heads.mtimeNs;
  // File times advance in clock ticks, so a change within the tick of the last look keeps the same
  // mtime ("racy git"): a recently touched repository is always listed again (tips are compared).
  if (BigInt(Date.now()) * 1_000_000n - newest < RACY_NS) return `recent:${Math.random()}`;
  return `${heads.mtimeNs}:${packed?.mtimeNs ?? 0n}:${packed?.size ?? 0n}`;
}
