import { randomBytes } from "node:crypto";
import { open, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";

/**
 * Writes `content` to `path` so that readers see either the old file or the whole new one, never a
 * torn write: temp file in the same directory, fsync, rename. A crash or kill in between leaves the
 * old file (and at worst a stray `.tmp-*` file, which nothing reads).
 */
export async function writeFileAtomic(
  path: string,
  content: string | Uint8Array,
  mode = 0o644,
): Promise<void> {
  const temp = join(dirname(path), `.tmp-${randomBytes(6).toString("hex")}`);
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
