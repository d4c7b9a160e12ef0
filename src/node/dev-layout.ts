import { lstat, readdir, readlink, stat } from "node:fs/promises";
import { join, posix } from "node:path";
import type { DevLayout } from "../environment/activation.js";
import type { StorePath } from "../nix/store-path.js";

// A symlink chain deeper than this is a cycle; treat the path as missing.
const MAX_LINKS = 32;

/** Where a CA bundle sits in a package (nixpkgs' cacert) and so in an environment. */
export const CA_BUNDLE_FILE = "etc/ssl/certs/ca-bundle.crt";
/** Where glibc's locale archive sits in a package (nixpkgs' glibcLocales) and in an environment. */
export const LOCALE_ARCHIVE_FILE = "lib/locale/locale-archive";

/**
 * Looks into a built environment for what activation tests there (Flox's profile.d scripts test the
 * same paths): python3 and its version, pip3, cmake, jupyter, java, rustLibSrc and the packages'
 * profile.d scripts. The profile is a tree of links into /nix/store, so links are followed inside
 * the node store (`storeRoot`), never on the host.
 *
 * @example
 * await probeDevLayout(profile, "/"); // { python: { version: "3.12" }, cmake: false, … }
 */
export async function probeDevLayout(profile: StorePath, storeRoot: string): Promise<DevLayout> {
  const inProfile = (relative: string) => statInStore(storeRoot, posix.join(profile, relative));
  const isDir = async (relative: string): Promise<boolean> =>
    (await inProfile(relative))?.isDirectory() ?? false;
  const isExecutable = async (relative: string): Promise<boolean> => {
    const info = await inProfile(relative);
    return info?.isFile() === true && (info.mode & 0o111) !== 0;
  };
  const lib = await realInStore(storeRoot, posix.join(profile, "lib"));
  const pythons = lib === undefined ? [] : await readdir(lib).catch(() => [] as string[]);
  const pythonSitePackages: string[] = [];
  for (const name of pythons.filter((entry) => /^python[0-9]/.test(entry)).sort()) {
    if (await isDir(`lib/${name}/site-packages`)) pythonSitePackages.push(`lib/${name}/site-packages`);
  }
  const profileD = await realInStore(storeRoot, posix.join(profile, "etc/profile.d"));
  const scripts = profileD === undefined ? [] : await readdir(profileD).catch(() => [] as string[]);
  const python3 = await isExecutable("bin/python3");
  const pythonReal = python3 ? await realInStore(storeRoot, posix.join(profile, "bin/python3")) : undefined;
  const version = pythonReal === undefined ? undefined : pythonVersionOf(pythonReal);
  return {
    ...(python3 ? { python: version === undefined ? {} : { version } } : {}),
    pythonSitePackages,
    pip3: await isExecutable("bin/pip3"),
    cmake: await isExecutable("bin/cmake"),
    jupyter: await isDir("share/jupyter"),
    java: await isExecutable("bin/java"),
    rustSrc: await isDir("rustc-std-workspace-std"),
    profileScripts: scripts.filter((name) => name.endsWith(".sh")).sort(),
  };
}

/**
 * Python's `major.minor` from where `bin/python3` leads (Flox asks the interpreter; the node does
 * not run the environment's programs): the file name `python3.12`, else the package name
 * `python3-3.12.8`. Pure.
 *
 * @example
 * pythonVersionOf("/nix/store/…-python3-3.12.8/bin/python3.12"); // "3.12"
 */
export function pythonVersionOf(realPath: string): string | undefined {
  const byFile = /\/python([0-9]+\.[0-9]+)$/.exec(realPath);
  if (byFile?.[1] !== undefined) return byFile[1];
  return /\/nix\/store\/[0-9a-z]{32}-python[0-9]*-([0-9]+\.[0-9]+)/.exec(realPath)?.[1];
}

/**
 * A file of `profile` (e.g. {@link CA_BUNDLE_FILE}) as the container sees it, when it exists in the
 * node store; else undefined.
 */
export async function fileInProfile(
  profile: StorePath,
  relative: string,
  storeRoot: string,
): Promise<string | undefined> {
  const info = await statInStore(storeRoot, posix.join(profile, relative));
  return info?.isFile() === true ? posix.join(profile, relative) : undefined;
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
