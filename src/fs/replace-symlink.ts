import { randomBytes } from "node:crypto";
import { rename, rm, symlink } from "node:fs/promises";

/**
 * Points `link` at `target`, atomically replacing whatever `link` was: the new link is made under a
 * temporary name beside it and renamed over it, so a reader sees the old link or the new one, never
 * none. The directory of `link` must exist.
 *
 * @example
 * await replaceSymlink("/opt/imageless/current", "releases/1.2.0");
 */
export async function replaceSymlink(link: string, target: string): Promise<void> {
  const temp = `${link}.tmp-${randomBytes(6).toString("hex")}`;
  await symlink(target, temp);
  try {
    await rename(temp, link);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
