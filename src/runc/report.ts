import { appendFileSync } from "node:fs";

/** Where runc was told to log (`--log`, `--log-format`); both absent means runc's default, text on stderr. */
export interface RuncLogTarget {
  readonly path?: string | undefined;
  readonly format?: string | undefined;
}

/**
 * One error line in runc's own log format, so containerd's shim reads it as runc's error.
 * JSON is what the shim passes (`--log-format json`) and parses; anything else gets logrus's text form.
 *
 * @example
 * formatRuncLogLine("json", "annotation flox.dev/environment: cannot use \"x\"", new Date(0));
 * // '{"level":"error","msg":"imageless: annotation flox.dev/environment: cannot use \"x\"","time":"1970-01-01T00:00:00.000Z"}\n'
 */
export function formatRuncLogLine(format: string | undefined, message: string, time: Date): string {
  const msg = `imageless: ${message}`;
  const stamp = time.toISOString();
  if (format === "json") return `${JSON.stringify({ level: "error", msg, time: stamp })}\n`;
  // JSON string quoting escapes newlines and quotes, which keeps the line one line as logrus's quoting does.
  return `time=${JSON.stringify(stamp)} level=error msg=${JSON.stringify(msg)}\n`;
}

/**
 * Reports the wrapper's failure where containerd looks: appends one error line to runc's `--log`
 * (the shim shows the last `"level":"error"` line as `OCI runtime create failed: <msg>`), and writes
 * `imageless: <message>` to stderr for anyone running the wrapper by hand. Call it last, just before
 * exiting non-zero, so this is the last error line. Never throws: a log that cannot be written must
 * not hide the exit code.
 *
 * @example
 * reportRuncError({ path: inv.global.log, format: inv.global.logFormat }, error.message);
 * process.exit(1);
 */
export function reportRuncError(log: RuncLogTarget, message: string): void {
  const line = formatRuncLogLine(log.format, message, new Date());
  if (log.path !== undefined && log.path !== "") {
    try {
      appendFileSync(log.path, line);
    } catch {
      // The bundle may already be gone (a racing delete); stderr below still carries the message.
    }
    writeStderr(`imageless: ${message}\n`);
  } else {
    // Without --log runc itself logs to stderr in its format, so do the same.
    writeStderr(line);
  }
}

function writeStderr(text: string): void {
  try {
    process.stderr.write(text);
  } catch {
    // stderr may be a closed FIFO once the shim has given up on us; nothing else to tell.
  }
}
