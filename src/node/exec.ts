import { computeActivation } from "../environment/activation.js";
import type { Logger } from "../log/logger.js";
import { readProcess, writeProcess } from "../oci/bundle.js";
import { loadContainerRecord } from "./container-state.js";

/**
 * Rewrites an exec `--process` file so `kubectl exec` and exec probes see the same environment as the
 * main process. CRI builds exec processes from the spec it stored, not from the edited config.json,
 * so without this an exec would run outside the environment (research: containerd-runtime §3).
 */
export async function prepareExec(
  containerId: string,
  processFile: string,
  deps: { readonly stateDir: string; readonly log: Logger },
): Promise<"activated" | "unmodified"> {
  const record = await loadContainerRecord(deps.stateDir, containerId);
  if (record === undefined || record.skipExec) return "unmodified";
  const process = await readProcess(processFile);
  const cwd = typeof process.cwd === "string" ? process.cwd : "/";
  const { env } = computeActivation(record.activation, process.env ?? [], cwd);
  await writeProcess(processFile, { ...process, env });
  deps.log.debug("exec.activated", {
    container: containerId,
    env: record.environment,
    generation: record.generation,
  });
  return "activated";
}
