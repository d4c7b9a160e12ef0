import { lstat, readdir, readlink } from "node:fs/promises";
import { join, posix } from "node:path";
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
    // `target` has no link left in it (resolveLink), so lstat sees what buildenv would link.
    const info = await lstat(toReal(store, target)).catch(() => undefined);
    if (info === undefined) continue; // dangling: buildenv skips it
    if (info.isDirectory()) {
      files.push(`${relative}/`);
      await walk(store, target, relative, files, depth + 1);
    } else {
      files.push(relative);
    }
  }
}

/**
 * The logical /nix/store path a link finally points to, or undefined when any hop leaves the store
 * (or the chain is too long). Every hop and every directory on the way is resolved here, in the store's
 * own namespace, never by the host's kernel: a link to `/nix/store/y/b` means `<storeRoot>/nix/store/y/b`,
 * and `/nix/store/y/b -> /etc` ends the walk instead of listing the host's `/etc`.
 */
export async function resolveLink(store: NixStore, logical: string): Promise<string | undefined> {
  let pending = posix
    .normalize(logical)
    .split("/")
    .filter((part) => part !== "");
  let resolved = "/";
  for (let hops = 0; pending.length > 0; ) {
    const [head, ...rest] = pending;
    pending = rest;
    const next = posix.join(resolved, head ?? "");
    if (!isInStore(next) && !isStoreDirPrefix(next)) return undefined;
    const info = await lstat(toReal(store, next)).catch(() => undefined);
    if (info === undefined) return next; // dangling: the caller's stat drops it
    if (!info.isSymbolicLink()) {
      resolved = next;
      continue;
    }
    if (++hops > MAX_DEPTH) return undefined;
    const target = await readlink(toReal(store, next));
    const absolute = posix.isAbsolute(target) ? target : posix.join(resolved, target);
    pending = [
      ...posix
        .normalize(absolute)
        .split("/")
        .filter((part) => part !== ""),
      ...pending,
    ];
    resolved = "/";
  }
  return isInStore(resolved) ? resolved : undefined;
}

/** A path strictly inside `/nix/store/` (pure). */
function isInStore(path: string): boolean {
  return path.startsWith("/nix/store/") && path.length > "/nix/store/".length;
}

/** `/nix` or `/nix/store`: passed through on the way into the store (pure). */
function isStoreDirPrefix(path: string): boolean {
  return path === "/nix" || path === "/nix/store";
}

function toReal(store: NixStore, logical: string): string {
  return store.storeRoot === "/" ? logical : join(store.storeRoot, logical);
}
