import { lstat, readdir, readlink, stat } from "node:fs/promises";
import { join, posix } from "node:path";
import type { DevLayout } from "../environment/activation.js";
import type { StorePath } from "../nix/store-path.js";

// A symlink chain deeper than this is a cycle; treat the path as missing.
const MAX_LINKS = 32;

/**
 * Looks into a built environment for the directories `dev` mode's language variables point at
 * (PYTHONPATH, JUPYTER_PATH, JAVA_HOME, RUST_SRC_PATH). The profile is a tree of links into
 * /nix/store, so links are followed inside the node store (`storeRoot`), never on the host.
 *
 * @example
 * await probeDevLayout(profile, "/"); // { pythonSitePackages: ["lib/python3.12/site-packages"], … }
 */
export async function probeDevLayout(profile: StorePath, storeRoot: string): Promise<DevLayout> {
  const isDir = async (relative: string): Promise<boolean> =>
    (await statInStore(storeRoot, posix.join(profile, relative)))?.isDirectory() ?? false;
  const lib = await realInStore(storeRoot, posix.join(profile, "lib"));
  const pythons = lib === undefined ? [] : await readdir(lib).catch(() => [] as string[]);
  const pythonSitePackages: string[] = [];
  for (const name of pythons.filter((entry) => /^python[0-9]/.test(entry)).sort()) {
    if (await isDir(`lib/${name}/site-packages`)) pythonSitePackages.push(`lib/${name}/site-packages`);
  }
  return {
    pythonSitePackages,
    jupyter: await isDir("share/jupyter"),
    java: (await statInStore(storeRoot, posix.join(profile, "bin/java"))) !== undefined,
    rustSrc: await isDir("lib/rustlib/src/rust/library"),
  };
}

async function statInStore(storeRoot: string, logical: string) {
  const real = await realInStore(storeRoot, logical);
  return real === undefined ? undefined : stat(real).catch(() => undefined);
}

/**
 * The host path of `logical` (a path under /nix/store), resolving every symlink on the way inside
 * the store root; undefined when it is missing or leaves the store.
 */
async function realInStore(storeRoot: string, logical: string): Promise<string | undefined> {
  const toHost = (path: string): string => (storeRoot === "/" ? path : join(storeRoot, path));
  let resolved = "/";
  const pending = logical.split("/").filter((part) => part !== "");
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift() ?? "";
    const next = posix.join(resolved, part);
    const info = await lstat(toHost(next)).catch(() => undefined);
    if (info === undefined) return undefined;
    if (!info.isSymbolicLink()) {
      resolved = next;
      continue;
    }
    if (++links > MAX_LINKS) return undefined;
    const target = await readlink(toHost(next));
    const absolute = posix.isAbsolute(target) ? posix.normalize(target) : posix.join(resolved, target);
    if (!absolute.startsWith("/nix/store/")) return undefined;
    pending.unshift(...absolute.split("/").filter((p) => p !== ""));
    resolved = "/";
  }
  return toHost(resolved);
}
