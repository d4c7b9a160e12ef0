import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ImagelessError } from "../errors/imageless-error.js";
import { createLogger, fileSink, type Logger } from "../log/logger.js";
import { configPathFromEnv, loadNodeConfig, type NodeConfig } from "../node/config.js";
import { releaseClaim } from "../node/container-state.js";
import { prepareExec } from "../node/exec.js";
import { nodeStartDeps, removeGcRoot } from "../node/node-deps.js";
import { releaseContainer, sweepAbandoned } from "../node/release.js";
import { type CreateOutcome, prepareContainer } from "../node/start.js";
import { systemErrorLine } from "../node/system-error.js";
import { readSpec, writeSpec } from "../oci/bundle.js";
import type { OciSpec } from "../oci/spec.js";
import { type ContainerPolicy, parsePodPolicy } from "../pod/policy.js";
import { recordContainerStart } from "../telemetry/record-start.js";
import { parseRuncArgv, type RuncInvocation } from "./argv.js";
import { reportRuncError } from "./report.js";
import { resolveRealRunc, runRealRunc } from "./run-runc.js";

// The sh dispatcher this module runs behind (dist/src/runc/main.js → bin/imageless-runc): a `runc` on
// PATH that resolves to it must be skipped, or the wrapper would run itself.
const WRAPPER_PATH = fileURLToPath(new URL("../../../bin/imageless-runc", import.meta.url));

/**
 * `imageless-runc` for the subcommands that need Node: create, exec and delete (the sh dispatcher in
 * bin/imageless-runc sends everything else straight to runc). Load → modify → write → run runc.
 * Every failure is caught here, once, and written where containerd reads it: runc's --log.
 */
async function main(argv: readonly string[]): Promise<never> {
  const invocation = parseRuncArgv(argv);
  let runc: string | undefined = process.env["IMAGELESS_REAL_RUNC"];
  let log: Logger | undefined;
  try {
    const { config, warnings } = await loadNodeConfig(configPathFromEnv(process.env));
    log = nodeLogger(config);
    for (const warning of warnings) log.warn("config.warning", { warning });
    runc ??= resolveRealRunc(config.runtime.runc, WRAPPER_PATH, process.env["PATH"] ?? "");
    if (!invocation.help) await handle(invocation, config, log);
  } catch (error) {
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
    // A failed delete must not leak the container: runc still has to remove it.
    if (invocation.command !== "delete" || runc === undefined) process.exit(1);
  }
  return runRealRunc(runc, argv);
}

async function handle(invocation: RuncInvocation, config: NodeConfig, log: Logger): Promise<void> {
  const containerId = invocation.containerId;
  if (containerId === undefined) return;
  const stateDir = config.runtime.stateDir;
  switch (invocation.command) {
    case "create": {
      // The bundle comes from argv, never from cwd: one shim serves the whole pod from the sandbox's bundle.
      const bundle = invocation.bundle ?? process.cwd();
      const spec = await readSpec(bundle);
      const started = Date.now();
      let outcome: CreateOutcome;
      try {
        // Creates killed earlier (SIGKILL, OOM) left GC roots and caches that no delete will name.
        await sweepAbandoned({ stateDir, log, removeGcRoot });
        outcome = await prepareContainer(containerId, spec, nodeStartDeps(config, log));
        if (outcome.kind === "flox") {
          await writeSpec(bundle, outcome.spec);
          await releaseClaim(stateDir, containerId);
        }
      } catch (error) {
        await recordCreate(spec, config, log, {
          result: "error",
          errorKind: error instanceof ImagelessError ? error.kind : "internal",
          totalMs: Date.now() - started,
        });
        throw error;
      }
      if (outcome.kind === "flox") {
        await recordCreate(
          spec,
          config,
          log,
          { result: "ok", generation: outcome.record.generation, stats: outcome.stats },
          outcome.policy,
        );
      }
      return;
    }
    case "exec":
      if (invocation.processFile !== undefined)
        await prepareExec(containerId, invocation.processFile, { stateDir, log });
      return;
    case "delete":
      await releaseContainer(containerId, { stateDir, log, removeGcRoot });
      return;
  }
}

/** One telemetry event for a create (SPEC §9); recordContainerStart decides whether and never throws. */
async function recordCreate(
  spec: OciSpec,
  config: NodeConfig,
  log: Logger,
  outcome: Parameters<typeof recordContainerStart>[0]["outcome"],
  known?: ContainerPolicy,
): Promise<void> {
  const annotations = spec.annotations ?? {};
  // A successful start already parsed the policy; a failed one may not have got that far.
  let policy: ContainerPolicy | undefined = known;
  if (policy === undefined) {
    try {
      policy = parsePodPolicy(annotations);
    } catch {
      policy = undefined; // an invalid annotation: the annotations alone decide
    }
  }
  await recordContainerStart(
    { annotations, policy, outcome },
    {
      enabled: config.telemetry.enabled,
      endpoint: config.telemetry.endpoint,
      stateDir: config.runtime.stateDir,
      disableVariable: process.env["FLOX_DISABLE_METRICS"],
      log,
    },
  );
}

function nodeLogger(config: NodeConfig): Logger {
  const dir = join(config.runtime.stateDir, "log");
  try {
    mkdirSync(dir, { recursive: true });
  } catch {
    // The logger itself tolerates an unwritable directory.
  }
  return createLogger(fileSink(join(dir, "runtime.jsonl")), { pid: process.pid });
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

await main(process.argv.slice(2));
