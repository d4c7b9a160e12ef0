import { ENDPOINT_VARIABLE, sendSpool } from "./sender.js";

// Entry point of the detached sender that startSender() runs: `node sender-main.js <state-dir>`, the
// endpoint in the environment. It has nobody to report to, so every failure just ends it; the events
// stay spooled for the next run.
const stateDir = process.argv[2];
const endpoint = process.env[ENDPOINT_VARIABLE];
if (stateDir !== undefined && endpoint !== undefined && endpoint !== "") {
  await sendSpool(stateDir, endpoint).catch(() => 0);
}
