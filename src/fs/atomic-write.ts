import { randomBytes } from "node:crypto";
import { renameSync, rmSync, writeFileSync } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";

/**
 * Writes `content` to `path` so that readers see either the old file or the whole new one, never a
 * torn write: temp file in the same directory, fsync, rename. A crash or kill in between leaves the
 * old file (and at worst a stray `.tmp-*` file, which nothing reads).
 *
 * `durable: false` skips the fsync, for files that do not outlive the machine's uptime anyway (a
 * bundle's config.json on containerd's tmpfs, an exec process file): the rename alone already keeps
 * readers from a torn file, and an fsync costs ~15 ms on a busy VM's disk, on every start and exec.
 */
export async function writeFileAtomic(
  path: string,
  content: string | Uint8Array,
  mode = 0o644,
  opts: { readonly durable?: boolean } = {},
): Promise<void> {
  const temp = join(dirname(path), `.tmp-${randomBytes(6).toString("hex")}`);
  if (opts.durable === false) {
    writeWithoutSync(temp, path, content, mode);
    return;
  }
  const handle = await open(temp, "wx", mode);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/**
 * The non-durable write, synchronously: without an fsync it is a few page-cache syscalls (µs), while
 * each awaited fs call costs a thread-pool round trip and an event-loop wake-up, which the node agent
 * (one thread, on the start and exec path) pays several times per call on a busy machine.
 */
function writeWithoutSync(temp: string, path: string, content: string | Uint8Array, mode: number): void {
  writeFileSync(temp, content, { flag: "wx", mode });
  try {
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}
