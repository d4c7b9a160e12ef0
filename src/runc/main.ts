import type { Logger } from "../log/logger.js";
import { configPathFromEnv, loadNodeConfig } from "../node/config.js";
import { nodeStartDeps } from "../node/node-deps.js";
import { nodeLogger } from "../node/node-log.js";
import { currentLayout, wrapperPath } from "../program/layout.js";
import { parseRuncArgv } from "./argv.js";
import { type CallResult, handleRuncCall, reportCallFailure } from "./handle-call.js";
import { resolveRealRunc, runRealRunc } from "./run-runc.js";

/**
 * `imageless-runc` in-process, for create, exec and delete when the node agent is not running (the sh
 * dispatcher in bin/imageless-runc sends everything else straight to runc, and these to the agent
 * when it answers): argv → {@link handleRuncCall} → run runc or exit 1. Run as
 * `imageless __runc <runc argv>` (src/main/imageless.ts).
 */
export async function runWrapper(argv: readonly string[]): Promise<never> {
  const invocation = parseRuncArgv(argv);
  let runc: string | undefined = process.env["IMAGELESS_REAL_RUNC"];
  let log: Logger | undefined;
  let result: CallResult;
  try {
    const { config, warnings } = await loadNodeConfig(configPathFromEnv(process.env));
    log = nodeLogger(config);
    for (const warning of warnings) log.warn("config.warning", { warning });
    // The sh dispatcher this runs behind: a `runc` on PATH that resolves to it must be skipped.
    runc ??= resolveRealRunc(config.runtime.runc, wrapperPath(currentLayout()), process.env["PATH"] ?? "");
    result = await handleRuncCall(invocation, {
      config,
      log,
      deps: nodeStartDeps(config, log),
      disableVariable: process.env["FLOX_DISABLE_METRICS"],
      cwd: process.cwd(),
    });
  } catch (error) {
    reportCallFailure(invocation, error, log);
    // A failed delete must not leak the container: runc still has to remove it.
    result = invocation.command === "delete" ? { kind: "run" } : { kind: "fail", message: "" };
  }
  if (result.kind === "fail" || runc === undefined) process.exit(1);
  // runc create runs with the container's stdio (pipes from the shim), which runc hands to the
  // container's process: these lines are the first of the container's log.
  for (const line of result.containerOutput ?? []) process.stderr.write(`${line}\n`);
  return runRealRunc(runc, argv);
}
