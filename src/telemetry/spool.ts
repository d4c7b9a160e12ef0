import { appendFile, mkdir, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../fs/atomic-write.js";

/** How much the spool keeps before dropping the oldest events. */
export interface SpoolLimits {
  readonly maxLines: number;
  readonly maxBytes: number;
}

/** 1000 events or 1 MiB, whichever comes first. */
export const DEFAULT_SPOOL_LIMITS: SpoolLimits = { maxLines: 1000, maxBytes: 1024 * 1024 };

/** Where telemetry lives under the state directory, in one place. */
export function spoolPaths(stateDir: string) {
  const dir = join(stateDir, "telemetry");
  return {
    dir,
    /** Events not yet handed to a sender, one JSON object per line. */
    spool: join(dir, "events.jsonl"),
    /** Batches a sender took from the spool and has not delivered yet. */
    outbox: join(dir, "outbox"),
    /** Held (pid inside) while a sender runs, so there is at most one per node. */
    senderLock: join(dir, "sender.lock"),
  };
}

/**
 * The newest lines of `text` that fit both limits, oldest dropped first (pure).
 *
 * @example
 * keepNewest("a\nb\nc\n", { maxLines: 2, maxBytes: 100 }); // "b\nc\n"
 */
export function keepNewest(text: string, limits: SpoolLimits): string {
  const lines = text.split("\n").filter((line) => line !== "");
  const kept: string[] = [];
  let bytes = 0;
  for (let i = lines.length - 1; i >= 0 && kept.length < limits.maxLines; i--) {
    const line = lines[i] ?? "";
    const size = Buffer.byteLength(line) + 1;
    if (bytes + size > limits.maxBytes) break;
    bytes += size;
    kept.push(line);
  }
  return kept.length === 0 ? "" : `${kept.reverse().join("\n")}\n`;
}

/**
 * Appends one event line to the spool and trims it to `limits`. Concurrent starts append with
 * O_APPEND (one small write each); a trim racing an append may drop that event, which bounded,
 * best-effort telemetry accepts.
 *
 * @throws the file system's error; callers treat telemetry as best effort.
 */
export async function appendToSpool(
  stateDir: string,
  event: object,
  limits: SpoolLimits = DEFAULT_SPOOL_LIMITS,
): Promise<void> {
  const paths = spoolPaths(stateDir);
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  await appendFile(paths.spool, `${JSON.stringify(event)}\n`, { mode: 0o600 });
  const { size } = await stat(paths.spool);
  // Reading only past a size where the line limit can matter keeps the common append one write.
  if (size < Math.min(limits.maxBytes, limits.maxLines * 64)) return;
  const text = await readFile(paths.spool, "utf8");
  const kept = keepNewest(text, limits);
  if (kept.length !== text.length) await writeFileAtomic(paths.spool, kept, 0o600);
}

/**
 * Moves the spool's events into a new outbox batch (atomic rename: appends after it start a new
 * spool) and returns every batch waiting, oldest first, keeping at most `maxBatches`.
 */
export async function takeBatches(stateDir: string, maxBatches = 20): Promise<string[]> {
  const paths = spoolPaths(stateDir);
  await mkdir(paths.outbox, { recursive: true, mode: 0o700 });
  const name = `${Date.now().toString().padStart(15, "0")}-${process.pid}.jsonl`;
  await rename(paths.spool, join(paths.outbox, name)).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOENT") throw error;
  });
  const batches = (await readdir(paths.outbox)).filter((f) => f.endsWith(".jsonl")).sort();
  const dropped = batches.slice(0, Math.max(0, batches.length - maxBatches));
  for (const file of dropped) await rm(join(paths.outbox, file), { force: true });
  return batches.slice(dropped.length).map((file) => join(paths.outbox, file));
}
