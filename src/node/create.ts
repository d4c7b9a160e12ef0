import { ImagelessError } from "../errors/imageless-error.js";
import type { Logger } from "../log/logger.js";
import { readSpec, writeSpec } from "../oci/bundle.js";
import type { OciSpec } from "../oci/spec.js";
import { type ContainerPolicy, parsePodPolicy } from "../pod/policy.js";
import { recordContainerStart } from "../telemetry/record-start.js";
import type { NodeConfig } from "./config.js";
import { releaseClaim } from "./container-state.js";
import { sweepAbandoned } from "./release.js";
import { type CreateOutcome, prepareContainer, type StartDeps } from "./start.js";

/** What a create needs around the start pipeline; the wrapper and the agent build it the same way. */
export interface CreateContext {
  readonly config: NodeConfig;
  readonly log: Logger;
  readonly deps: StartDeps;
  /** FLOX_DISABLE_METRICS as containerd's environment (the runtime's caller) sets it. */
  readonly disableVariable: string | undefined;
  /**
   * Runs `work` once the call has been answered (the node agent: after its reply, so runc need not
   * wait for the telemetry spool or a sender's start). Without it, `work` is awaited in place (the
   * in-process wrapper exits right after the call).
   */
  readonly afterReply?: (work: () => Promise<void>) => void;
}

/**
 * `runc create` for one container, in one place: read the bundle's spec → {@link prepareContainer} →
 * write the edited spec → one telemetry event (SPEC §9), also for a failed start. Runs in the wrapper
 * (in-process fallback) and in the node agent alike.
 *
 * @throws {ImagelessError} what the pipeline threw, after its telemetry event was recorded.
 * @example
 * await createContainer("abc", "/run/containerd/…/abc", { config, log, deps: nodeStartDeps(config, log), disableVariable });
 */
export async function createContainer(
  containerId: string,
  bundle: string,
  ctx: CreateContext,
): Promise<CreateOutcome> {
  const spec = await readSpec(bundle);
  const started = Date.now();
  let outcome: CreateOutcome;
  try {
    // Creates killed earlier (SIGKILL, OOM) left GC roots and caches that no delete will name.
    const stateDir = ctx.config.runtime.stateDir;
    await sweepAbandoned({ stateDir, log: ctx.log, removeGcRoot: ctx.deps.removeGcRoot });
    outcome = await prepareContainer(containerId, spec, ctx.deps);
    if (outcome.kind === "flox") {
      await writeSpec(bundle, outcome.spec);
      await releaseClaim(stateDir, containerId);
    }
  } catch (error) {
    await later(ctx, () =>
      recordCreate(spec, ctx, {
        result: "error",
        errorKind: error instanceof ImagelessError ? error.kind : "internal",
        totalMs: Date.now() - started,
      }),
    );
    throw error;
  }
  if (outcome.kind === "flox") {
    const { record, stats, policy } = outcome;
    await later(ctx, () =>
      recordCreate(spec, ctx, { result: "ok", generation: record.generation, stats }, policy),
    );
  }
  return outcome;
}

/** `work` after the reply when the caller can (see {@link CreateContext.afterReply}), else now. */
async function later(ctx: CreateContext, work: () => Promise<void>): Promise<void> {
  if (ctx.afterReply === undefined) await work();
  else ctx.afterReply(work);
}

/** One telemetry event for a create; recordContainerStart decides whether and never throws. */
async function recordCreate(
  spec: OciSpec,
  ctx: CreateContext,
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
      enabled: ctx.config.telemetry.enabled,
      endpoint: ctx.config.telemetry.endpoint,
      stateDir: ctx.config.runtime.stateDir,
      disableVariable: ctx.disableVariable,
      log: ctx.log,
    },
  );
}
