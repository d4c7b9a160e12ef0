/**
 * An owner's branches and tips, re-read only when its ref files changed: every git request (every
 * container start's live-generation lookup) needs them, and two stats are much cheaper than listing
 * `refs/heads` and reading each ref file and `packed-refs`.
 *
 * Why the stamp is enough: git changes a loose ref by renaming `refs/heads/<name>.lock` over it (a
 * push, a switch, a delete: the directory's mtime and ctime change) and rewrites `packed-refs` the
 * same way (its inode changes). A stamp is taken before the files are read, so a change during the
 * read shows in the next stamp. Timestamps have a coarse granularity (a clock tick), so a listing is
 * remembered only when both files last changed more than {@link QUIET_MS} before it was read: a
 * later change then necessarily carries a later timestamp. Nested branch names (`refs/heads/a/b`,
 * whose changes touch a subdirectory) and reftable repositories (`refs/heads` is a file there) are
 * never remembered.
 */
import { type BigIntStats, statSync } from "node:fs";
import { join } from "node:path";
import { listBranches, repoPath } from "./git-repos.js";

/** How long ref files must have been unchanged before a listing of them is remembered. */
export const QUIET_MS = 100;

/** What a listing of `repo` depends on (undefined: cannot tell, read every time). */
export interface RefStamp {
  /** Equal keys: nothing changed in between. */
  readonly key: string;
  /** The latest change time of the ref files, Unix ms. */
  readonly changedAtMs: number;
}

/**
 * The stamp of a bare repository's ref files. Synchronous: two stats of inodes git keeps in the page
 * cache cost less than one round trip through libuv's thread pool.
 */
export function refStamp(repo: string): RefStamp | undefined {
  const heads = statSync(join(repo, "refs", "heads"), { bigint: true, throwIfNoEntry: false });
  if (heads === undefined || !heads.isDirectory()) return undefined;
  const packed = statSync(join(repo, "packed-refs"), { bigint: true, throwIfNoEntry: false });
  const parts = (s: BigIntStats | undefined) =>
    s === undefined ? "-" : `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  const latestNs = [heads.mtimeNs, heads.ctimeNs, packed?.mtimeNs ?? 0n, packed?.ctimeNs ?? 0n].reduce(
    (a, b) => (a > b ? a : b),
  );
  return { key: `${parts(heads)}/${parts(packed)}`, changedAtMs: Number(latestNs / 1_000_000n) };
}

/** Whether a listing read after `stamp` was taken at `readAtMs` may be remembered (pure). */
export function mayRemember(
  stamp: RefStamp | undefined,
  readAtMs: number,
  branches: ReadonlyMap<string, string>,
): boolean {
  if (stamp === undefined || readAtMs - stamp.changedAtMs <= QUIET_MS) return false;
  for (const name of branches.keys()) if (name.includes("/")) return false;
  return true;
}

/** Lists an owner's branches as {@link listBranches} does. */
export type BranchLister = (owner: string) => Promise<Map<string, string>>;

/**
 * {@link listBranches} remembering each owner's last listing while its stamp holds. The returned map
 * is shared: callers must not change it.
 *
 * @example
 * const branches = cachedBranchLister(dataDir, Date.now);
 * await branches("acme"); // Map { "web" => "1f0c…" }
 */
export function cachedBranchLister(dataDir: string, now: () => number, limit = 4096): BranchLister {
  const entries = new Map<string, { key: string; branches: Map<string, string> }>();
  return async (owner) => {
    const readAt = now();
    const stamp = refStamp(repoPath(dataDir, owner));
    const hit = entries.get(owner);
    if (stamp !== undefined && hit?.key === stamp.key) return hit.branches;
    const branches = await listBranches(dataDir, owner);
    if (mayRemember(stamp, readAt, branches) && stamp !== undefined) {
      if (entries.size >= limit) entries.clear();
      entries.set(owner, { key: stamp.key, branches });
    } else {
      entries.delete(owner);
    }
    return branches;
  };
}
