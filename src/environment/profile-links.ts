import type { StorePath } from "../nix/store-path.js";
import type { SelectedPackage } from "./lockfile.js";

/**
 * One group of store paths linked into a profile at one priority (lower wins a file conflict), as
 * Flox's `buildenv/builder.pl` hands them to its link step.
 */
export interface ProfileLink {
  readonly installId: string;
  readonly priority: number;
  readonly paths: readonly StorePath[];
  /**
   * Set for paths a package propagates (dev mode): builder.pl links them with collisions ignored,
   * so a file one of them shares with an installed package is simply not linked.
   */
  readonly ignoreCollisions?: boolean;
}

/**
 * The link groups of the selected packages, in lock order: each package's outputs at the package's
 * priority, and each output with a priority of its own (lockfile v1's other outputs) alone. A store
 * path already linked by an earlier install id is skipped, as builder.pl links the first copy and
 * skips the rest, so the same package under two install ids builds. Pure.
 *
 * @example
 * profileLinks([hello, helloAgain]); // [{ installId: "hello", priority: 5, paths: [hello] }]
 */
export function profileLinks(packages: readonly SelectedPackage[]): ProfileLink[] {
  const linked = new Set<StorePath>();
  const links: ProfileLink[] = [];
  for (const pkg of packages) {
    const main: StorePath[] = [];
    const own: ProfileLink[] = [];
    for (const [output, path] of Object.entries(pkg.outputs)) {
      if (linked.has(path)) continue;
      linked.add(path);
      const priority = pkg.outputPriorities?.[output];
      if (priority === undefined) main.push(path);
      else own.push({ installId: pkg.installId, priority, paths: [path] });
    }
    if (main.length > 0) links.push({ installId: pkg.installId, priority: pkg.priority, paths: main });
    links.push(...own);
  }
  return links;
}

/**
 * What dev mode links besides the packages (builder.pl, `FLOX_RECURSIVE_LINK`): every store path
 * named in a linked path's `nix-support/propagated-build-inputs`, recursively, except paths ending
 * in `-stubs`. A path propagated by a package of priority p gets `1000 × p + n` (a path propagated by
 * a propagated one keeps its propagator's number + n), n counting up from `counterStart`, batches
 * visited in name order; collisions with them are ignored. Pure: `propagatedOf` holds the files
 * already read.
 *
 * @example
 * propagatedLinks([{ installId: "lib", priority: 5, paths: [lib] }], new Map([[lib, [zlib]]]), 0);
 * // [{ installId: "lib", priority: 5000, paths: [zlib], ignoreCollisions: true }]
 */
export function propagatedLinks(
  direct: readonly ProfileLink[],
  propagatedOf: ReadonlyMap<string, readonly string[]>,
  counterStart: number,
): ProfileLink[] {
  const done = new Set<string>();
  let postponed = new Map<string, { priority: number; installId: string }>();
  const note = (path: string, priority: number, installId: string): void => {
    for (const dependency of propagatedOf.get(path) ?? []) {
      if (dependency.endsWith("-stubs") || done.has(dependency)) continue;
      postponed.set(dependency, { priority, installId });
    }
  };
  for (const link of direct) {
    for (const path of link.paths) done.add(path);
  }
  for (const link of direct) {
    for (const path of link.paths) note(path, link.priority, link.installId);
  }
  const links: ProfileLink[] = [];
  let counter = counterStart;
  while (postponed.size > 0) {
    const batch = postponed;
    postponed = new Map();
    for (const path of [...batch.keys()].sort(byStoreName)) {
      const from = batch.get(path);
      if (from === undefined || done.has(path)) continue;
      done.add(path);
      const base = from.priority < 1000 ? from.priority * 1000 : from.priority;
      const priority = base + counter++;
      links.push({ installId: from.installId, priority, paths: [path as StorePath], ignoreCollisions: true });
      note(path, priority, from.installId);
    }
  }
  return links;
}

/** Orders store paths by their name (after the hash), then by the whole path, like builder.pl. */
function byStoreName(a: string, b: string): number {
  const name = (path: string): string => path.slice(path.lastIndexOf("/") + 34);
  const [x, y] = [name(a), name(b)];
  if (x !== y) return x < y ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
