import { randomUUID } from "node:crypto";
import type { Logger } from "../log/logger.js";
import type { ContainerPolicy } from "../pod/policy.js";
import { VERSION } from "../version.js";
import {
  buildStartEvent,
  isDisabledByEnvironment,
  type StartEventInput,
  shouldRecordStart,
} from "./event.js";
import { startSender } from "./sender.js";
import { appendToSpool } from "./spool.js";

/** Where and whether events go: the node config's `[telemetry]` and the runtime's environment. */
export interface TelemetrySettings {
  readonly enabled: boolean;
  /** `""`: spool only. */
  readonly endpoint: string;
  readonly stateDir: string;
  /** FLOX_DISABLE_METRICS as the runtime sees it. */
  readonly disableVariable: string | undefined;
  readonly log: Logger;
}

/**
 * Records one container start (SPEC §9) if telemetry wants it: builds the event, spools it and, with
 * an endpoint, starts a detached sender. Never throws and never waits for the network: a broken
 * spool is logged (`telemetry.failed`) and the start goes on.
 *
 * @example
 * await recordContainerStart({ annotations, policy, outcome: { result: "ok", generation, stats } }, settings);
 */
export async function recordContainerStart(
  start: {
    readonly annotations: Readonly<Record<string, string>>;
    readonly policy: ContainerPolicy | undefined;
    readonly outcome: StartEventInput["outcome"];
  },
  settings: TelemetrySettings,
): Promise<void> {
  try {
    const record = shouldRecordStart({
      enabled: settings.enabled,
      runtimeEnvDisables: isDisabledByEnvironment(settings.disableVariable),
      annotations: start.annotations,
      policy: start.policy,
    });
    if (!record) return;
    const event = buildStartEvent({
      id: randomUUID(),
      now: Date.now(),
      version: VERSION,
      ...(start.policy?.kind === "flox" ? { policy: start.policy } : {}),
      outcome: start.outcome,
    });
    await appendToSpool(settings.stateDir, event);
    if (settings.endpoint !== "") startSender(settings.stateDir, settings.endpoint);
  } catch (error) {
    settings.log.warn("telemetry.failed", { error: error instanceof Error ? error.message : String(error) });
  }
}
