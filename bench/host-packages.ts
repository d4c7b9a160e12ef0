/**
 * Packages of realistic bytes for the image comparisons: this machine's shared libraries
 * (/usr/lib/x86_64-linux-gnu), copied into store paths of a chroot store. Real binaries compress as
 * real packages do (random data would not compress at all; text would compress far better).
 */
import { copyFile, lstat, mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { type NixStore, storeArgs } from "../src/nix/nix-store.js";
import { runNix } from "../src/nix/run-nix.js";
import { isStorePath, type StorePath } from "../src/nix/store-path.js";

const HOST_LIBRARIES = "/usr/lib/x86_64-linux-gnu";

/** A file to copy and its size. */
export interface HostFile {
  readonly path: string;
  readonly size: number;
}

/**
 * Picks `counts.length` disjoint groups of about `counts[i]` bytes each: group i takes, in order, the
 * files no earlier group took that still fit in it, until it is 98 % full. Pure.
 */
export function groupFiles(files: readonly HostFile[], counts: readonly number[]): HostFile[][] {
  const taken = new Set<HostFile>();
  return counts.map((want) => {
    const group: HostFile[] = [];
    let filled = 0;
    for (const file of files) {
      if (filled >= want * 0.98) break;
      if (taken.has(file) || filled + file.size > want) continue;
      taken.add(file);
      group.push(file);
      filled += file.size;
    }
    return group;
  });
}

/** The regular files directly in /usr/lib/x86_64-linux-gnu, by name (symlinks left out). */
async function hostLibraries(): Promise<HostFile[]> {
  const files: HostFile[] = [];
  for (const name of (await readdir(HOST_LIBRARIES)).sort()) {
    const stat = await lstat(join(HOST_LIBRARIES, name));
    if (stat.isFile() && stat.size > 0) files.push({ path: join(HOST_LIBRARIES, name), size: stat.size });
  }
  return files;
}

/** Store paths made of host libraries, for the benchmarks' environments. */
export interface HostPackages {
  /** The shared part: `baseParts` paths of about `baseBytes / baseParts` each. */
  readonly base: readonly StorePath[];
  /** Small distinct packages, one per environment of the disk figure. */
  readonly distinct: readonly StorePath[];
}

/**
 * Adds the packages to `store` (under `workDir`): a base of ~`baseBytes` in `baseParts` store paths
 * (a closure is several packages) and `distinct` packages of ~`distinctBytes` each, from different files.
 *
 * @throws when this machine has too few library bytes for the sizes asked.
 */
export async function addHostPackages(
  store: NixStore,
  workDir: string,
  sizes: { baseBytes: number; baseParts: number; distinct: number; distinctBytes: number },
): Promise<HostPackages> {
  const counts = [
    ...Array.from({ length: sizes.baseParts }, () => Math.ceil(sizes.baseBytes / sizes.baseParts)),
    ...Array.from({ length: sizes.distinct }, () => sizes.distinctBytes),
  ];
  const groups = groupFiles(await hostLibraries(), counts);
  const paths: StorePath[] = [];
  for (const [index, group] of groups.entries()) {
    if (group.length === 0)
      throw new Error(`${HOST_LIBRARIES} has too few bytes for ${counts.length} packages`);
    const name = index < sizes.baseParts ? `hostlibs-${index + 1}` : `app-${index - sizes.baseParts + 1}`;
    const dir = join(workDir, name);
    await mkdir(join(dir, "lib"), { recursive: true });
    for (const file of group)
      await copyFile(file.path, join(dir, "lib", file.path.slice(HOST_LIBRARIES.length + 1)));
    const out = (
      await runNix("nix-store", ["--add", dir, ...storeArgs(store)], { action: `adding ${name}` })
    ).trim();
    if (!isStorePath(out)) throw new Error(`expected a store path from nix-store --add, got "${out}"`);
    paths.push(out);
  }
  return { base: paths.slice(0, sizes.baseParts), distinct: paths.slice(sizes.baseParts) };
}
