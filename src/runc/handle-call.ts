import { ImagelessError } from "../errors/imageless-error.js";
import type { Logger } from "../log/logger.js";
import type { NodeConfig } from "../node/config.js";
import { type CreateContext, createContainer } from "../node/create.js";
import { prepareExec } from "../node/exec.js";
import { removeGcRoot } from "../node/node-deps.js";
import { releaseContainer } from "../node/release.js";
import type { StartDeps } from "../node/start.js";
import { systemErrorLine } from "../node/system-error.js";
import type { RuncInvocation } from "./argv.js";
import { reportRuncError } from "./report.js";

/** Everything a runc call needs from the node; built per call by the wrapper, once by the agent. */
export interface CallContext {
  readonly config: NodeConfig;
  readonly log: Logger;
  readonly deps: StartDeps;
  /** FLOX_DISABLE_METRICS as the caller (containerd's environment) had it. */
  readonly disableVariable: string | undefined;
  /** The caller's working directory: the bundle of a `create` without `--bundle` (runc's own default). */
  readonly cwd: string;
  /** See {@link CreateContext.afterReply}: the agent defers a create's telemetry past its reply. */
  readonly afterReply?: (work: () => Promise<void>) => void;
}

/** What the caller does next: run the real runc with the same argv, or exit 1 (already reported). */
export type CallResult =
  | {
      readonly kind: "run";
      /** Lines for the container's log, written to runc create's stderr (the container's) before runc runs. */
      readonly containerOutput?: readonly string[];
    }
  | { readonly kind: "fail"; readonly message: string };

/**
 * The work of the runc subcommands that need Node — create (prepare + write the spec), exec (rewrite
 * the process file), delete (release the container's state) — for the in-process wrapper and the
 * node agent alike. A failure is written where containerd reads it (runc's `--log`) before this
 * returns; a failed delete still runs runc, which must remove the container anyway.
 */
export async function handleRuncCall(invocation: RuncInvocation, ctx: CallContext): Promise<CallResult> {
  try {
    const containerOutput = invocation.help ? [] : await dispatch(invocation, ctx);
    return containerOutput.length === 0 ? { kind: "run" } : { kind: "run", containerOutput };
  } catch (error) {
    const message = reportCallFailure(invocation, error, ctx.log);
    return invocation.command === "delete" ? { kind: "run" } : { kind: "fail", message };
  }
}

/** Does the call's work; returns the lines for the container's log (a create's warnings). */
async function dispatch(invocation: RuncInvocation, ctx: CallContext): Promise<readonly string[]> {
  const containerId = invocation.containerId;
  if (containerId === undefined) return [];
  const stateDir = ctx.config.runtime.stateDir;
  switch (invocation.command) {
    case "create": {
      // The bundle comes from argv; cwd only as runc's own default (one shim serves a whole pod from
      // the sandbox's bundle, so the shim always passes --bundle).
      const outcome = await createContainer(containerId, invocation.bundle ?? ctx.cwd, ctx);
      return outcome.kind === "flox" ? outcome.containerWarnings : [];
    }
    case "exec":
      if (invocation.processFile !== undefined)
        await prepareExec(containerId, invocation.processFile, { stateDir, log: ctx.log });
      return [];
    case "delete":
      await releaseContainer(containerId, { stateDir, log: ctx.log, removeGcRoot });
      return [];
  }
  return [];
}

/**
 * Logs a failed call (with its causes, for the node log) and writes its one line to runc's `--log`.
 * Returns the line the user sees.
 */
export function reportCallFailure(
  invocation: RuncInvocation,
  error: unknown,
  log: Logger | undefined,
): string {
  const message = userMessage(error);
  log?.error("runc.failed", {
    command: invocation.command,
    container: invocation.containerId,
    message,
    // The detail behind the one-line message (e.g. Nix's stderr); owners scrub secrets from causes.
    cause: causeChain(error).slice(0, 4000) || undefined,
  });
  if (!(error instanceof ImagelessError))
    log?.error("runc.internal", { stack: String((error as Error)?.stack) });
  reportRuncError({ path: invocation.global.log, format: invocation.global.logFormat }, message);
  return message;
}

/** The messages of an error's causes, innermost last (e.g. the Nix command and its stderr). */
function causeChain(error: unknown): string {
  const parts: string[] = [];
  for (let cause = error instanceof Error ? error.cause : undefined; cause !== undefined; ) {
    parts.push(cause instanceof Error ? cause.message : String(cause));
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return parts.join(" <- ");
}

function userMessage(error: unknown): string {
  if (error instanceof ImagelessError) return error.message;
  const system = systemErrorLine(error);
  if (system !== undefined) return system;
  return `internal error: ${error instanceof Error ? error.message : String(error)}`;
}
