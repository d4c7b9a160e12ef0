import type { Logger } from "../log/logger.js";
import { loadContainerRecord, removeContainerRecord, statePaths } from "./container-state.js";

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
  const record = await loadContainerRecord(deps.stateDir, containerId);
  if (record === undefined) return;
  await dropContainerState(containerId, deps);
  deps.log.info("delete.released", { container: containerId, env: record.environment });
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
