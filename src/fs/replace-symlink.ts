import { randomBytes } from "node:crypto";
import { renameSync, rmSync, symlinkSync } from "node:fs";

/**
 * Points `link` at `target`, atomically replacing whatever `link` was: the new link is made under a
 * temporary name beside it and renamed over it, so a reader sees the old link or the new one, never
 * none. The directory of `link` must exist.
 *
 * Synchronous on purpose: two metadata calls of microseconds, made on every container start (GC
 * roots), where awaiting each cost the node agent's one thread a thread-pool round trip and a
 * wake-up (bench/README.md, "The warm path").
 *
 * @example
 * replaceSymlink("/opt/imageless/current", "releases/1.2.0");
 */
export function replaceSymlink(link: string, target: string): void {
  const temp = `${link}.tmp-${randomBytes(6).toString("hex")}`;
  symlinkSync(target, temp);
  try {
    renameSync(temp, link);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}
