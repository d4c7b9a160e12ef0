import { appendFileSync } from "node:fs";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

/**
 * Structured JSON-lines logger, passed down explicitly (never a singleton). Fields are flat scalars
 * so a whole spec, env array or header set cannot be logged by accident.
 */
export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

export type LogSink = (line: string) => void;

/** A logger writing one JSON object per line to `sink`. */
export function createLogger(sink: LogSink, base: LogFields = {}): Logger {
  const write = (level: LogLevel, event: string, fields: LogFields = {}): void => {
    sink(`${JSON.stringify({ time: new Date().toISOString(), level, event, ...base, ...fields })}\n`);
  };
  return {
    debug: (event, fields) => write("debug", event, fields),
    info: (event, fields) => write("info", event, fields),
    warn: (event, fields) => write("warn", event, fields),
    error: (event, fields) => write("error", event, fields),
  };
}

/** A sink appending to a file; a log that cannot be written must never fail a container start. */
export function fileSink(path: string): LogSink {
  return (line) => {
    try {
      appendFileSync(path, line);
    } catch {
      // Logging is best effort: the node's log directory may be missing or full.
    }
  };
}

/**
 * A sink that hands `write` the lines of one event-loop turn together: a server logging every request
 * makes one write system call per turn instead of one per line. What is pending is written when the
 * process exits, also on an uncaught exception.
 */
export function coalescingSink(write: (text: string) => void): LogSink {
  let pending: string[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const text = pending.join("");
    pending = [];
    write(text);
  };
  process.on("exit", flush);
  return (line) => {
    if (pending.length === 0) setImmediate(flush);
    pending.push(line);
  };
}

export const nullLogger: Logger = createLogger(() => {});
