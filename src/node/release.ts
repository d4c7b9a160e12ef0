import type { Logger } from "../log/logger.js";
import { loadContainerRecord, removeContainerRecord, statePaths } from "./container-state.js";

/**
 * Drops what a container held on the node: its GC root (so `node gc` may reclaim the environment once
 * nothing else uses it), its record and its env cache. Idempotent: the shim calls delete twice.
 */
export async function releaseContainer(
  containerId: string,
  deps: {
    readonly stateDir: string;
    readonly log: Logger;
    readonly removeGcRoot: (link: string) => Promise<void>;
  },
): Promise<void> {
  const record = await loadContainerRecord(deps.stateDir, containerId);
  if (record === undefined) return;
  await deps.removeGcRoot(statePaths(deps.stateDir, containerId).gcRoot);
  await removeContainerRecord(deps.stateDir, containerId);
  deps.log.info("delete.released", { container: containerId, env: record.environment });
}
