import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { createLogger, fileSink, type Logger } from "../log/logger.js";
import type { NodeConfig } from "./config.js";

/** The runtime's JSON-lines log, `<state-dir>/log/runtime.jsonl`, shared by the wrapper and the agent. */
export function nodeLogger(config: NodeConfig, base: Readonly<Record<string, string | number>> = {}): Logger {
  const file = nodeLogPath(config);
  const dir = dirname(file);
  try {
    mkdirSync(dir, { recursive: true });
  } catch {
    // The logger itself tolerates an unwritable directory.
  }
  return createLogger(fileSink(file), { pid: process.pid, ...base });
}

/** Where {@link nodeLogger} writes: `<state-dir>/log/runtime.jsonl`. */
export function nodeLogPath(config: NodeConfig): string {
  return join(config.runtime.stateDir, "log", "runtime.jsonl");
}
