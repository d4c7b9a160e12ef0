import type { ChildProcess } from "node:child_process";

/**
 * Stops a server a test started, by its PID only: `signal` (SIGTERM unless the program wants another
 * for a clean stop, e.g. PostgreSQL's SIGINT "fast shutdown"), then SIGKILL after `graceMs`. Resolves
 * when it has exited; a child that already exited is left alone, so calling twice is safe.
 */
export async function stopChild(
  child: ChildProcess,
  opts: { readonly signal?: NodeJS.Signals; readonly graceMs?: number; readonly onKill?: () => void } = {},
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  process.kill(child.pid, opts.signal ?? "SIGTERM");
  const timer = setTimeout(() => {
    opts.onKill?.();
    if (child.pid !== undefined) process.kill(child.pid, "SIGKILL");
  }, opts.graceMs ?? 10_000);
  await exited;
  clearTimeout(timer);
}
