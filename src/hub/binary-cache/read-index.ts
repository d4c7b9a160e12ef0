/**
 * Which environments make each path of an owner's cache namespace readable, brought up to date
 * cheaply: an owner's locks are re-read only when its repository's refs changed (the mtimes of
 * `refs/heads` and `packed-refs`, which every ref update touches), and only for branches whose tip
 * moved. Only the owner's own environments open its namespace: a lock elsewhere naming the same
 * path opens nothing here. The caller asks {@link CacheReadIndex.refresh} when what it knows grants
 * nothing, so a push is visible to the very next request, also for a path other environments already
 * made readable.
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../../log/logger.js";
import { listBranches, repoPath } from "../git/git-repos.js";
import { readersByPath } from "./closure.js";
import { readLockedPaths } from "./locked-paths.js";
import type { NamespaceIndex, NamespacePath } from "./namespace-index.js";

interface OwnerState {
  readonly stamp: string;
  /** branch → its tip and the hash parts its locks list */
  readonly branches: ReadonlyMap<string, { readonly tip: string; readonly roots: ReadonlySet<string> }>;
}

interface Readers {
  readonly state: OwnerState;
  readonly paths: ReadonlyMap<string, NamespacePath>;
  readonly size: number;
  readonly byPath: Map<string, string[]>;
}

/** The readers of cached paths, for one hub data directory. */
export class CacheReadIndex {
  readonly #dataDir: string;
  readonly #namespaces: NamespaceIndex;
  readonly #log: Logger;
  readonly #owners = new Map<string, OwnerState>();
  readonly #readers = new Map<string, Readers>();
  readonly #refreshing = new Map<string, Promise<void>>();

  constructor(dataDir: string, namespaces: NamespaceIndex, log: Logger) {
    this.#dataDir = dataDir;
    this.#namespaces = namespaces;
    this.#log = log;
  }

  /** The environment names of `owner` through which its path with hash part `hash` is readable. */
  async readersOf(owner: string, hash: string): Promise<readonly string[]> {
    if (!this.#owners.has(owner)) await this.refresh(owner);
    const state = this.#owners.get(owner);
    if (state === undefined) return [];
    const paths = await this.#namespaces.paths(owner);
    let readers = this.#readers.get(owner);
    if (
      readers === undefined ||
      readers.state !== state ||
      readers.paths !== paths ||
      readers.size !== paths.size
    ) {
      const roots = new Map<string, ReadonlySet<string>>();
      for (const [name, branch] of state.branches) roots.set(name, branch.roots);
      readers = {
        state,
        paths,
        size: paths.size,
        byPath: readersByPath(roots, (h) => paths.get(h)?.references),
      };
      this.#readers.set(owner, readers);
    }
    return readers.byPath.get(hash) ?? [];
  }

  /** Re-reads `owner`'s branches when its refs changed; concurrent callers share one pass. */
  refresh(owner: string): Promise<void> {
    let running = this.#refreshing.get(owner);
    if (running === undefined) {
      running = this.#refreshOwner(owner).finally(() => this.#refreshing.delete(owner));
      this.#refreshing.set(owner, running);
    }
    return running;
  }

  async #refreshOwner(owner: string): Promise<void> {
    const stamp = await refsStamp(repoPath(this.#dataDir, owner));
    if (stamp === undefined) {
      this.#owners.delete(owner);
      return;
    }
    if (this.#owners.get(owner)?.stamp === stamp) return;
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
