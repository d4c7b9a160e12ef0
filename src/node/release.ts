import { readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../log/logger.js";
import { loadContainerRecord, removeContainerRecord, statePaths } from "./container-state.js";
import { isRunning, parseIdentity } from "./process-identity.js";

/** The edges {@link releaseContainer} and {@link dropContainerState} touch. */
export interface ReleaseDeps {
  readonly stateDir: string;
  readonly log: Logger;
  readonly removeGcRoot: (link: string) => Promise<void>;
}

/**
 * Drops what a container held on the node: its GC roots (so `node gc` may reclaim the environment
 * once nothing else uses it), its record, its env cache and the private layers of a mutable `/nix`.
 * Idempotent: the shim calls delete twice.
 */
export async function releaseContainer(containerId: string, deps: ReleaseDeps): Promise<void> {
  // An unreadable record (left empty by a machine crash: records are not fsync'd) must not keep the
  // container's GC roots alive: its state is dropped by id all the same.
  const record = await loadContainerRecord(deps.stateDir, containerId).catch((error: unknown) => {
    deps.log.warn("delete.record-unreadable", { container: containerId, error: String(error) });
    return undefined;
  });
  // Without a record too: a create killed after its GC root but before its record left state that
  // only this id names. Dropping nothing costs a few failed unlinks.
  await dropContainerState(containerId, deps);
  if (record !== undefined)
    deps.log.info("delete.released", { container: containerId, env: record.environment });
}

/**
 * Drops the state of every create whose process died before finishing (SIGKILL, OOM, a node
 * crash): its claim names a process that no longer runs. Such a container never reached runc, so
 * nothing else would release its GC roots, env cache or overlay. Returns the ids swept.
 */
export async function sweepAbandoned(deps: ReleaseDeps): Promise<string[]> {
  const claims = statePaths(deps.stateDir, "").claims;
  // Synchronously (on every create; the directory holds only the creates under way): see writeFileAtomic.
  let ids: string[];
  try {
    ids = readdirSync(claims);
  } catch {
    ids = [];
  }
  const swept: string[] = [];
  for (const id of ids) {
    if (id.startsWith(".tmp-")) continue; // a claim being written; a dead writer's is harmless
    const text = await readFile(join(claims, id), "utf8").catch(() => undefined);
    if (text === undefined) continue;
    const holder = parseIdentity(text);
    if (holder !== undefined && (await isRunning(holder))) continue;
    await dropContainerState(id, deps);
    swept.push(id);
  }
  if (swept.length > 0) deps.log.warn("sweep.abandoned", { containers: swept.join(",") });
  return swept;
}

/**
 * Removes every piece of node state a container may have, whether or not its record was written
 * (a create that failed half-way calls this to leave nothing a later start would trip over).
 */
export async function dropContainerState(containerId: string, deps: ReleaseDeps): Promise<void> {
  const paths = statePaths(deps.stateDir, containerId);
  await deps.removeGcRoot(paths.gcRoot);
  await deps.removeGcRoot(paths.shellGcRoot);
  await deps.removeGcRoot(paths.cacertGcRoot);
  await deps.removeGcRoot(paths.localesGcRoot);
  await removeContainerRecord(deps.stateDir, containerId);
}
