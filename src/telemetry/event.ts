import type { ErrorKind } from "../errors/imageless-error.js";
import { Annotation, CriAnnotation, CriContainerType } from "../pod/annotations.js";
import type { ContainerPolicy } from "../pod/policy.js";

/** The event name of one Flox container start (SPEC §9). */
export const CONTAINER_START_EVENT = "runtime.container_start";

/**
 * One `runtime.container_start` event. Holds no token, pod, namespace or container name: the
 * environment reference is the only identifying field (what ran, not who ran it).
 */
export interface ContainerStartEvent {
  readonly event: typeof CONTAINER_START_EVENT;
  /** Random, so a batch sent twice can be de-duplicated by the receiver. */
  readonly id: string;
  /** ISO time of the start. */
  readonly time: string;
  /** The runtime's version (src/cli/version.ts). */
  readonly version: string;
  readonly result: "ok" | "error";
  /** The {@link ErrorKind} of a failed start. */
  readonly errorKind?: ErrorKind;
  /** `owner/name`, when the annotation could be read. */
  readonly environment?: string;
  readonly mode?: "run" | "dev";
  readonly mutable?: boolean;
  /** `pinned` for `owner/name:N`, `live` for `owner/name`. */
  readonly generation?: "pinned" | "live";
  readonly generationNumber?: number;
  readonly cacheHit?: boolean;
  readonly fetched?: boolean;
  readonly resolveMs?: number;
  readonly realiseMs?: number;
  readonly buildMs?: number;
  readonly totalMs?: number;
}

/** What a start measured, as `prepareContainer` returns it (durations in ms). */
export interface StartMeasurements {
  readonly live: boolean;
  readonly cacheHit: boolean;
  readonly fetched: boolean;
  readonly resolveMs: number;
  readonly realiseMs: number;
  readonly buildMs: number;
  readonly totalMs: number;
}

/** The inputs of {@link buildStartEvent}: a policy when it parsed, the outcome either way. */
export interface StartEventInput {
  readonly id: string;
  readonly now: number;
  readonly version: string;
  readonly policy?: Extract<ContainerPolicy, { kind: "flox" }>;
  readonly outcome:
    | { readonly result: "ok"; readonly generation: number; readonly stats: StartMeasurements }
    | { readonly result: "error"; readonly errorKind: ErrorKind; readonly totalMs: number };
}

/**
 * The event for one Flox container start (pure).
 *
 * @example
 * buildStartEvent({ id, now: Date.now(), version: VERSION, policy, outcome: { result: "ok", generation: 4, stats } });
 */
export function buildStartEvent(input: StartEventInput): ContainerStartEvent {
  const { policy, outcome } = input;
  const described: Pick<ContainerStartEvent, "environment" | "mode" | "mutable" | "generation"> =
    policy === undefined
      ? {}
      : {
          environment: `${policy.ref.owner}/${policy.ref.name}`,
          // Absent when the pod has no activate-mode annotation (the manifest's mode applied).
          ...(policy.mode === undefined ? {} : { mode: policy.mode }),
          mutable: policy.nixMutable,
          generation: policy.ref.generation === undefined ? "live" : "pinned",
        };
  const base = {
    event: CONTAINER_START_EVENT as typeof CONTAINER_START_EVENT,
    id: input.id,
    time: new Date(input.now).toISOString(),
    version: input.version,
    ...described,
  };
  if (outcome.result === "error") {
    return { ...base, result: "error", errorKind: outcome.errorKind, totalMs: outcome.totalMs };
  }
  const { stats } = outcome;
  return {
    ...base,
    result: "ok",
    generationNumber: outcome.generation,
    cacheHit: stats.cacheHit,
    fetched: stats.fetched,
    resolveMs: stats.resolveMs,
    realiseMs: stats.realiseMs,
    buildMs: stats.buildMs,
    totalMs: stats.totalMs,
  };
}

/** Whether the runtime's own environment switches telemetry off: FLOX_DISABLE_METRICS set, and not "", "0" or "false". Pure. */
export function isDisabledByEnvironment(value: string | undefined): boolean {
  if (value === undefined) return false;
  const normalised = value.trim().toLowerCase();
  return normalised !== "" && normalised !== "0" && normalised !== "false";
}

/**
 * Whether a start is recorded (pure). Only Flox container starts are; not when the node config, the
 * runtime's environment or the pod's `flox.dev/disable-metrics` turns it off. For a start whose policy
 * did not parse (`policy` undefined), the annotations decide: a sandbox, a container without an
 * environment or a skipped one is not a Flox start, and a disable-metrics value that is not a clear
 * "false" counts as disabled (the pod may have meant to opt out).
 */
export function shouldRecordStart(input: {
  readonly enabled: boolean;
  readonly runtimeEnvDisables: boolean;
  readonly annotations: Readonly<Record<string, string>>;
  readonly policy: ContainerPolicy | undefined;
}): boolean {
  if (!input.enabled || input.runtimeEnvDisables) return false;
  if (input.policy !== undefined) return input.policy.kind === "flox" && !input.policy.disableMetrics;
  const a = input.annotations;
  if (a[CriAnnotation.containerType] === CriContainerType.sandbox) return false;
  if (a[Annotation.environment] === undefined) return false;
  const disable = a[Annotation.disableMetrics];
  return disable === undefined || disable.trim().toLowerCase() === "false";
}
