import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { createLogger, fileSink, type Logger } from "../log/logger.js";
import type { NodeConfig } from "./config.js";

/** The runtime's JSON-lines log, `<state-dir>/log/runtime.jsonl`, shared by the wrapper and the agent. */
export function nodeLogger(config: NodeConfig, base: Readonly<Record<string, string | number>> = {}): Logger {
  const dir = join(config.runtime.stateDir, "log");
  try {
    mkdirSync(dir, { recursive: true });
  } catch {
    // The logger itself tolerates an unwritable directory.
  }
  return createLogger(fileSink(join(dir, "runtime.jsonl")), { pid: process.pid, ...base });
}
