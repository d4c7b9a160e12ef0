import { ENDPOINT_VARIABLE, sendSpool } from "./sender.js";

/**
 * The detached sender that startSender() runs (`imageless __send-telemetry <state-dir>`, the endpoint
 * in the environment). It has nobody to report to, so every failure just ends it; the events stay
 * spooled for the next run.
 */
export async function runSender(args: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  const stateDir = args[0];
  const endpoint = env[ENDPOINT_VARIABLE];
  if (stateDir !== undefined && endpoint !== undefined && endpoint !== "") {
    await sendSpool(stateDir, endpoint).catch(() => 0);
  }
}
