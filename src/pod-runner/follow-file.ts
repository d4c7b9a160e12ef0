import { open, stat } from "node:fs/promises";

/** A file being followed; `stop` reads what was appended last and ends the following. */
export interface FollowedFile {
  stop(): Promise<void>;
}

// Polling, not fs.watch: the log is appended by other processes (runc wrapper, node agent) and a poll
// of a few times a second is what a person watching progress needs.
const POLL_MS = 250;

/**
 * Calls `onLine` with each whole line appended to `path` from now on (what was there before is
 * skipped). A file that does not exist yet is followed from its start once it appears; read errors
 * end nothing: progress is best effort and must never fail the command it accompanies.
 */
export async function followFile(path: string, onLine: (line: string) => void): Promise<FollowedFile> {
  let offset = await stat(path).then(
    (s) => s.size,
    () => 0,
  );
  let partial = "";
  let reading: Promise<void> = Promise.resolve();

  const readNew = async (): Promise<void> => {
    const handle = await open(path, "r").catch(() => undefined);
    if (handle === undefined) return;
    try {
      const { size } = await handle.stat();
      if (size < offset) offset = 0; // truncated or replaced: start again
      if (size === offset) return;
      const buffer = Buffer.alloc(size - offset);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
      offset += bytesRead;
      const lines = (partial + buffer.subarray(0, bytesRead).toString("utf8")).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) onLine(line);
    } finally {
      await handle.close();
    }
  };
  const poll = (): void => {
    reading = reading.then(readNew).catch(() => {});
  };
  const timer = setInterval(poll, POLL_MS);
  return {
    async stop() {
      clearInterval(timer);
      poll();
      await reading;
    },
  };
}
