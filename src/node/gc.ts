import { rm, stat, utimes } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../log/logger.js";
import { queryClosure } from "../nix/closure.js";
import { deadStorePaths, deleteStorePaths, referrersClosure, storePathSizes } from "../nix/collect.js";
import { removeGcRoot } from "../nix/gc-roots.js";
import { realPath } from "../nix/nix-store.js";
import type { StorePath } from "../nix/store-path.js";
import type { NodeConfig } from "./config.js";
import { nodeStore } from "./node-deps.js";
import { sweepAbandoned } from "./release.js";
import { type CachedProfile, listCachedProfiles, listContainerRecords } from "./status.js";

/** Which cached profiles a collection frees. */
export interface GcPlan {
  readonly free: readonly CachedProfile[];
  readonly keep: readonly CachedProfile[];
}

/**
 * Decides what `node gc` frees: a profile no container uses and unused for at least `keepUnusedMs`.
 * A profile a container uses is never freed, however old. Pure.
 */
export function planGc(
  profiles: readonly CachedProfile[],
  inUse: ReadonlySet<string>,
  opts: { now: number; keepUnusedMs: number },
): GcPlan {
  const free: CachedProfile[] = [];
  const keep: CachedProfile[] = [];
  for (const profile of profiles) {
    const expired = opts.now - profile.lastUsedMs >= opts.keepUnusedMs;
    (expired && !inUse.has(profile.storePath) ? free : keep).push(profile);
  }
  return { free, keep };
}

/** What a collection did. */
export interface GcResult {
  /** The profiles freed (their store paths). */
  readonly freedProfiles: readonly StorePath[];
  /** Store paths deleted: the freed profiles, what of their closures nothing else needs, their .drv files. */
  readonly deletedPaths: readonly StorePath[];
  /** NAR bytes of the deleted paths. */
  readonly freedBytes: number;
  /** Profiles kept because a container uses them. */
  readonly inUse: number;
}

/**
 * `imageless node gc`: removes the profiles (and the closure paths only they needed) that no
 * container has used for `[gc] keep-unused`. Never one a container holds: a running container's
 * profile is reachable from its GC root, and `nix-store --delete` refuses a reachable path. Deletes
 * through Nix only, never with rm inside the store.
 *
 * "Last used" is the profile record's mtime: written at build, and refreshed here for each profile
 * a container uses, so a profile's unused time counts from the last collection that saw it in use.
 */
export async function collectGarbage(
  config: NodeConfig,
  opts: { log: Logger; now: number },
): Promise<GcResult> {
  const stateDir = config.runtime.stateDir;
  const store = nodeStore(config);
  // Creates killed before they finished hold GC roots and records no delete will name.
  await sweepAbandoned({ stateDir, log: opts.log, removeGcRoot });
  const records = await listContainerRecords(stateDir);
  const inUse = new Set<string>(records.map((record) => record.storePath));
  const profiles = await listCachedProfiles(stateDir);
  const seen = new Date(opts.now);
  for (const profile of profiles) {
    if (inUse.has(profile.storePath))
      await utimes(join(stateDir, "profiles", profile.key), seen, seen).catch(() => {});
  }
  const plan = planGc(profiles, inUse, { now: opts.now, keepUnusedMs: config.gc.keepUnusedMs });
  const present: StorePath[] = [];
  for (const profile of plan.free) {
    if (
      await stat(realPath(store, profile.storePath)).then(
        () => true,
        () => false,
      )
    )
      present.push(profile.storePath);
  }
  const candidates = await queryClosure(present, store);
  // Forget the profiles first: from here on a start builds them again instead of reusing a path
  // this collection is about to delete.
  for (const profile of plan.free) await rm(join(stateDir, "profiles", profile.key), { force: true });
  const dead = await deadStorePaths(store);
  // What a referrer of a dead path is, is dead too (else the path would be reachable): the profile's
  // .drv, which Nix would otherwise count as keeping the profile's inputs.
  const doomed = (
    await referrersClosure(
      candidates.filter((path) => dead.has(path)),
      store,
    )
  ).filter((path) => dead.has(path));
  const sizes = await storePathSizes(doomed, store);
  await deleteStorePaths(doomed, store);
  const freedBytes = [...sizes.values()].reduce((a, b) => a + b, 0);
  opts.log.info("gc.done", {
    freedProfiles: plan.free.length,
    deletedPaths: doomed.length,
    freedBytes,
    inUse: plan.keep.filter((p) => inUse.has(p.storePath)).length,
  });
  return {
    freedProfiles: plan.free.map((p) => p.storePath),
    deletedPaths: doomed,
    freedBytes,
    inUse: plan.keep.filter((p) => inUse.has(p.storePath)).length,
  };
}
