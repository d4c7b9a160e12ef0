import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { open, readFile, rm, stat } from "node:fs/promises";
import { currentLayout, HiddenCommand, selfInvocation } from "../program/layout.js";
import { spoolPaths, takeBatches } from "./spool.js";

/** The environment variable that carries the endpoint to the sender (not argv: /proc shows argv to all). */
export const ENDPOINT_VARIABLE = "IMAGELESS_TELEMETRY_ENDPOINT";

/**
 * Starts a detached sender for the node's spool unless one is running. Returns at once: the sender
 * is not waited for, holds none of the caller's stdio, and outlives it.
 */
export function startSender(stateDir: string, endpoint: string): void {
  if (isSenderRunning(stateDir)) return;
  // A detached process of this same program (sender-main.ts), so no container start waits for the
  // network: the single executable itself, or `node` with dist's entry; never a `node` from PATH.
  const { program, args } = selfInvocation(currentLayout(), HiddenCommand.sendTelemetry, [stateDir]);
  const child = spawn(program, args, {
    detached: true,
    stdio: "ignore",
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", [ENDPOINT_VARIABLE]: endpoint },
  });
  child.on("error", () => {
    // Telemetry is best effort; a node that cannot start the sender keeps the events spooled.
  });
  child.unref();
}

function isSenderRunning(stateDir: string): boolean {
  try {
    const pid = Number(readFileSync(spoolPaths(stateDir).senderLock, "utf8"));
    return Number.isInteger(pid) && pid > 0 && isAlive(pid);
  } catch {
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** How one sender run behaves. */
export interface SendOptions {
  /** Per-request limit, so a hung endpoint cannot keep a sender around. */
  readonly timeoutMs?: number;
  /** Spool-drain rounds before giving up until the next start kicks a sender. */
  readonly rounds?: number;
}

/**
 * Delivers the spool to `endpoint` in batches: each batch is one `POST` with
 * `{"events":[…]}` (JSON), deleted after a 2xx answer and kept for the next run otherwise.
 * One sender per node at a time (`sender.lock`, holding its pid; a dead holder's lock is taken over).
 *
 * @returns how many events were delivered.
 */
export async function sendSpool(stateDir: string, endpoint: string, opts: SendOptions = {}): Promise<number> {
  const paths = spoolPaths(stateDir);
  let delivered = 0;
  for (let round = 0; round < (opts.rounds ?? 3); round++) {
    if (!(await acquireLock(paths.senderLock))) return delivered;
    try {
      for (const batch of await takeBatches(stateDir)) {
        const sent = await postBatch(batch, endpoint, opts.timeoutMs ?? 5000);
        if (sent === undefined) return delivered; // endpoint down: keep the rest for later
        delivered += sent;
        await rm(batch, { force: true });
      }
    } finally {
      await rm(paths.senderLock, { force: true });
    }
    // Events spooled while this round ran found the lock held and did not start a sender.
    const size = await stat(paths.spool).then(
      (s) => s.size,
      () => 0,
    );
    if (size === 0) return delivered;
  }
  return delivered;
}

async function postBatch(file: string, endpoint: string, timeoutMs: number): Promise<number | undefined> {
  const lines = (await readFile(file, "utf8")).split("\n").filter((line) => line.trim() !== "");
  const events: unknown[] = [];
  for (const line of lines) {
    try {
      events.push(JSON.parse(line));
    } catch {
      // A line cut by a crash is dropped, not sent.
    }
  }
  if (events.length === 0) return 0;
  try {
    const response = await fetch(endpoint, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ events }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.arrayBuffer().catch(() => undefined);
    return response.ok ? events.length : undefined;
  } catch {
    return undefined;
  }
}

async function acquireLock(path: string): Promise<boolean> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, "wx", 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") return false;
      const pid = Number(await readFile(path, "utf8").catch(() => ""));
      // A pid not written yet (holder between open and write) counts as alive.
      if (!Number.isInteger(pid) || pid <= 0 || isAlive(pid)) return false;
      await rm(path, { force: true });
    }
  }
  return false;
}
