import { lstat, readdir, readlink, stat } from "node:fs/promises";
import { dirname, join, posix } from "node:path";
import { type NixStore, realPath } from "./nix-store.js";
import type { StorePath } from "./store-path.js";

// A symlink chain deeper than this is a cycle or a mistake; buildenv would fail on it too.
const MAX_DEPTH = 32;

/**
 * The files of one store path as `findProfileConflicts` wants them: relative `/`-separated paths,
 * directories with a trailing `/`. Like buildenv, a symlink counts as what it points to; links are
 * followed only into /nix/store (mapped under the store root), never into the host's file system,
 * and dangling links are left out. An output that is a single file lists nothing (buildenv skips it).
 *
 * @example
 * await listStorePathFiles(hello, store); // ["bin/", "bin/hello", "share/", …]
 */
export async function listStorePathFiles(path: StorePath, store: NixStore): Promise<string[]> {
  const files: string[] = [];
  const root = await lstat(realPath(store, path));
  if (!root.isDirectory()) return files;
  await walk(store, path, "", files, 0);
  return files;
}

async function walk(
  store: NixStore,
  logicalDir: string,
  rel: string,
  files: string[],
  depth: number,
): Promise<void> {
  if (depth > MAX_DEPTH) return;
  const entries = await readdir(toReal(store, logicalDir), { withFileTypes: true });
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const logical = posix.join(logicalDir, entry.name);
    const relative = rel === "" ? entry.name : `${rel}/${entry.name}`;
    let target = logical;
    if (entry.isSymbolicLink()) {
      const resolved = await resolveLink(store, logical);
      if (resolved === undefined) {
        files.push(relative);
        continue;
      }
      target = resolved;
    }
    const info = await stat(toReal(store, target)).catch(() => undefined);
    if (info === undefined) continue; // dangling: buildenv skips it
    if (info.isDirectory()) {
      files.push(`${relative}/`);
      await walk(store, target, relative, files, depth + 1);
    } else {
      files.push(relative);
    }
  }
}

/** The logical /nix/store target of a link, or undefined when it leaves the store. */
async function resolveLink(store: NixStore, logical: string): Promise<string | undefined> {
  const target = await readlink(toReal(store, logical));
  const absolute = posix.isAbsolute(target) ? posix.normalize(target) : posix.join(dirname(logical), target);
  return absolute.startsWith("/nix/store/") ? absolute : undefined;
}

function toReal(store: NixStore, logical: string): string {
  return store.storeRoot === "/" ? logical : join(store.storeRoot, logical);
}
