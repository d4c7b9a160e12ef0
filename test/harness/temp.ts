/**
 * Temporary directories for real-process tests, and a removal that also copes with what those
 * processes leave behind: mounts (overlay rootfs, shm, bind mounts) and read-only Nix store files.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * Creates `/tmp/imageless-test-<prefix>-XXXXXX`.
 *
 * @example
 * const dir = await makeTempDir("cri");
 * t.after(() => removeTree(dir));
 */
export async function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(join("/tmp", `imageless-test-${prefix}-`));
}

/**
 * Mount points at or under `dir`, deepest first, from /proc/self/mountinfo (field 5 is the
 * mount point, with spaces and the like written as octal escapes).
 */
export async function mountsUnder(dir: string): Promise<string[]> {
  const text = await readFile("/proc/self/mountinfo", "utf8");
  const root = dir.replace(/\/+$/, "");
  const points = text
    .split("\n")
    .map((line) => line.split(" ")[4])
    .filter((p): p is string => p !== undefined)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(Number.parseInt(oct, 8))))
    .filter((p) => p === root || p.startsWith(`${root}/`));
  return [...new Set(points)].sort(
    (a, b) => b.split("/").length - a.split("/").length || b.length - a.length,
  );
}

/**
 * Unmounts everything under `dir` (lazily, deepest first), makes it writable and deletes it.
 * Safe to call twice and on a missing directory.
 */
export async function removeTree(dir: string): Promise<void> {
  // A mount can be stacked more than once on a point; repeat until mountinfo shows none.
  for (let round = 0; round < 5; round++) {
    const points = await mountsUnder(dir);
    if (points.length === 0) break;
    for (const point of points) {
      await run("umount", ["-l", point]).catch(() => undefined);
    }
  }
  // Nix store files and dirs are read-only; rm needs write permission on their parents.
  await run("chmod", ["-R", "u+w", dir]).catch(() => undefined);
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}
