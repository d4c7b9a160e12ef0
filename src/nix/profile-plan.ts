/**
 * Which files of a profile's packages collide, decided before Nix builds the profile so the error can
 * name install ids instead of store paths. Mirrors the merge rules of Nix's `builtin:buildenv`
 * (read at nix 2.8 / master `src/libstore/builtins/buildenv.cc`):
 * - packages are linked in priority order (lower number first); a file already linked from a lower
 *   number wins, an equal number is a conflict;
 * - two directories merge: the first package's directory is linked whole, and replaced by a real
 *   directory of links as soon as a second package brings the same directory;
 * - a file where another package has a directory (or the reverse) is a collision, except that a
 *   directory still linked whole from a lower number wins over a later file like a file would;
 * - names starting with `.` and Nix's noise files (`nix-support`, `log`, `info/dir` …) are never linked.
 */

/** One package (or one output of it) as the plan sees it. */
export interface PlannedPackage {
  installId: string;
  priority: number;
  /**
   * Paths relative to the output's root, `/`-separated; a directory ends with `/` (a symlink to a
   * directory counts as one). Parents of a listed path are directories even when not listed.
   */
  files: readonly string[];
  /** Collisions with this package are not errors (builder.pl links propagated paths this way). */
  ignoreCollisions?: boolean;
}

/** Two packages that cannot both be linked at `path`. */
export interface ProfileConflict {
  path: string;
  /** The install id linked first (lower or equal priority). */
  first: string;
  second: string;
  /** `file`: both provide a file at equal priority; `file-and-directory`: one a file, one a directory. */
  kind: "file" | "file-and-directory";
  priority: number;
}

type LinkNode = { kind: "dir" } | { kind: "link"; owner: number; isDir: boolean; priority: number };

/**
 * The conflicts Nix's buildenv would hit when linking `packages` into one profile; empty when it builds.
 *
 * @example
 * findProfileConflicts([
 *   { installId: "hello", priority: 5, files: ["bin/hello"] },
 *   { installId: "hello2", priority: 5, files: ["bin/hello"] },
 * ]); // [{ path: "bin/hello", first: "hello", second: "hello2", kind: "file", priority: 5 }]
 */
export function findProfileConflicts(packages: readonly PlannedPackage[]): ProfileConflict[] {
  const trees = packages.map((pkg) => toTree(pkg.files));
  const order = packages
    .map((_, index) => index)
    .sort((a, b) => priorityOf(packages, a) - priorityOf(packages, b));
  const profile = new Map<string, LinkNode>();
  const conflicts: ProfileConflict[] = [];

  const idOf = (index: number): string => packages[index]?.installId ?? "?";
  const conflict = (path: string, first: number, second: number, kind: ProfileConflict["kind"]): void => {
    if (packages[second]?.ignoreCollisions === true || packages[first]?.ignoreCollisions === true) return;
    conflicts.push({
      path,
      first: idOf(first),
      second: idOf(second),
      kind,
      priority: priorityOf(packages, second),
    });
  };

  const link = (owner: number, dir: string, priority: number): void => {
    const tree = trees[owner];
    if (tree === undefined) return;
    for (const [name, isDir] of tree.get(dir) ?? new Map<string, boolean>()) {
      const path = dir === "" ? name : `${dir}/${name}`;
      if (isIgnored(name, path)) continue;
      const existing = profile.get(path);
      if (isDir) {
        if (existing?.kind === "dir") {
          link(owner, path, priority);
          continue;
        }
        if (existing?.kind === "link") {
          if (!existing.isDir) {
            conflict(path, existing.owner, owner, "file-and-directory");
            continue;
          }
          profile.set(path, { kind: "dir" });
          link(existing.owner, path, existing.priority);
          link(owner, path, priority);
          continue;
        }
      } else if (existing?.kind === "link") {
        if (existing.priority === priority) {
          conflict(path, existing.owner, owner, existing.isDir ? "file-and-directory" : "file");
          continue;
        }
        if (existing.priority < priority) continue;
      } else if (existing?.kind === "dir") {
        conflict(path, ownerBelow(profile, path), owner, "file-and-directory");
        continue;
      }
      profile.set(path, { kind: "link", owner, isDir, priority });
    }
  };

  for (const index of order) link(index, "", priorityOf(packages, index));
  return conflicts;
}

/** The one line a user reads for `conflict`. */
export function describeConflict(conflict: ProfileConflict): string {
  if (conflict.kind === "file") {
    return (
      `packages '${conflict.first}' and '${conflict.second}' both provide ${conflict.path} at priority ${conflict.priority}:` +
      ` give one of them a lower "priority" in the manifest`
    );
  }
  return (
    `packages '${conflict.first}' and '${conflict.second}' collide at ${conflict.path}: a file in one is a directory` +
    ` in the other, which no priority resolves: remove one of them from the manifest`
  );
}

function priorityOf(packages: readonly PlannedPackage[], index: number): number {
  return packages[index]?.priority ?? 0;
}

/** The index of a package already linked somewhere under `dir`, -1 when none is. */
function ownerBelow(profile: ReadonlyMap<string, LinkNode>, dir: string): number {
  for (const [path, node] of profile) {
    if (node.kind === "link" && path.startsWith(`${dir}/`)) return node.owner;
  }
  return -1;
}

/** Directory → (child name → is a directory), from a flat file list. */
function toTree(files: readonly string[]): Map<string, Map<string, boolean>> {
  const tree = new Map<string, Map<string, boolean>>();
  const add = (dir: string, name: string, isDir: boolean): void => {
    let children = tree.get(dir);
    if (children === undefined) {
      children = new Map();
      tree.set(dir, children);
    }
    // A path listed as a file and implied as a directory by a longer path is a directory.
    children.set(name, isDir || children.get(name) === true);
  };
  for (const file of files) {
    const isDir = file.endsWith("/");
    const parts = file.split("/").filter((part) => part !== "");
    parts.forEach((name, index) => {
      const last = index === parts.length - 1;
      add(parts.slice(0, index).join("/"), name, last ? isDir : true);
    });
  }
  return tree;
}

/** Entries buildenv never links: hidden names, and files every package brings that would only collide. */
function isIgnored(name: string, path: string): boolean {
  if (name.startsWith(".")) return true;
  if (IGNORED_NAMES.has(name)) return true;
  return path === "info/dir" || path.endsWith("/info/dir");
}

const IGNORED_NAMES: ReadonlySet<string> = new Set([
  "propagated-build-inputs",
  "nix-support",
  "perllocal.pod",
  "log",
  "manifest.nix",
  "manifest.json",
]);
