import { appendFile, mkdir, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../fs/atomic-write.js";

/** How much the spool keeps before dropping the oldest events. */
export interface SpoolLimits {
  readonly maxLines: number;
  readonly maxBytes: number;
  /**
   * Lines are counted only when the spool grows past a multiple of this many bytes (or past
   * `maxBytes`), so a start appends without reading the spool; `maxLines` may be exceeded by the
   * events of one such step.
   */
  readonly checkEveryBytes?: number;
}

/** 1000 events or 1 MiB, whichever comes first; lines counted every 16 KiB (~40 events). */
export const DEFAULT_SPOOL_LIMITS: SpoolLimits = {
  maxLines: 1000,
  maxBytes: 1024 * 1024,
  checkEveryBytes: 16 * 1024,
};

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
 * Appends one event line to the spool; over `limits`, drops the oldest events down to 90% of them. Concurrent starts append with
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
  const line = `${JSON.stringify(event)}\n`;
  await appendFile(paths.spool, line, { mode: 0o600 });
  const { size } = await stat(paths.spool);
  const step = limits.checkEveryBytes ?? 16 * 1024;
  const crossedStep = Math.floor((size - Buffer.byteLength(line)) / step) !== Math.floor(size / step);
  if (size <= limits.maxBytes && !crossedStep) return;
  const text = await readFile(paths.spool, "utf8");
  if (keepNewest(text, limits).length === text.length) return;
  // Over a limit: trim to 90% of it, so the rewrite (with its fsync) happens once per ~100 events,
  // not at every start once the spool is full.
  const trimmed = keepNewest(text, {
    maxLines: Math.max(1, Math.floor(limits.maxLines * 0.9)),
    maxBytes: Math.floor(limits.maxBytes * 0.9),
  });
  await writeFileAtomic(paths.spool, trimmed, 0o600);
}

/**
 * Moves the spool's events into a new outbox batch (atomic rename: appends after it start a new
 * spool) and returns every batch waiting, oldest first, keeping at most `maxBatches`.
 */
export async function takeBatches(stateDir: string, maxBatches = 5): Promise<string[]> {
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
