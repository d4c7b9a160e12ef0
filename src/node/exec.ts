import { computeActivation } from "../environment/activation.js";
import { shellArgs } from "../environment/hook-script.js";
import type { Logger } from "../log/logger.js";
import { readProcess, writeProcess } from "../oci/bundle.js";
import { type ActivationShell, loadContainerRecord } from "./container-state.js";

/**
 * Rewrites an exec `--process` file so `kubectl exec` and exec probes see the same environment as the
 * main process. CRI builds exec processes from the spec it stored, not from the edited config.json,
 * so without this an exec would run outside the environment (research: containerd-runtime §3).
 * When the environment activates through bash, the exec runs through the same script in its
 * `attach` phase: it replays the variables the container's start recorded, without running the hook
 * again (SPEC §5), and the exec'd command keeps the exec's exit code.
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
  const shell = record.shell;
  const args = shell === undefined ? {} : { args: execShellArgs(shell, process.args ?? []) };
  await writeProcess(processFile, { ...process, env, ...args });
  deps.log.debug("exec.activated", {
    container: containerId,
    env: record.environment,
    generation: record.generation,
  });
  return "activated";
}

/** The exec's args through the activation script; a record from before `attach` existed runs it as then. */
function execShellArgs(shell: ActivationShell, args: readonly string[]): string[] {
  if (shell.record === undefined) return [shell.bash, "--noprofile", "--norc", shell.script, ...args];
  return shellArgs(shell.bash, shell.script, args, { phase: "attach", record: shell.record });
}
