import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, posix } from "node:path";
import { ImagelessError } from "../errors/imageless-error.js";
import { listStorePathFiles } from "./list-files.js";
import { type NixStore, storeArgs } from "./nix-store.js";
import { describeConflict, findProfileConflicts, type PlannedPackage } from "./profile-plan.js";
import { runNix } from "./run-nix.js";
import { isStorePath, type StorePath } from "./store-path.js";

/** One package of a profile: the outputs to link, at the package's priority (lower wins). */
export interface ProfilePackage {
  installId: string;
  priority: number;
  paths: readonly StorePath[];
  /** Collisions with these paths are not errors (what a package propagates, in dev mode). */
  ignoreCollisions?: boolean;
}

/** A small file the runtime generates into the profile (e.g. `activate.d/hook-on-activate`). */
export interface ExtraFile {
  content: string;
  executable?: boolean;
}

/** What {@link buildProfile} links. */
export interface ProfileInput {
  /** The profile's store path name (`[A-Za-z0-9+-._?=]`, not starting with `.`). */
  name: string;
  packages: readonly ProfilePackage[];
  /** Relative path → file; stored as a path of its own and linked with top priority. */
  extraFiles?: Readonly<Record<string, ExtraFile>>;
}

// Builds with Nix's own buildenv: the result is a symlink tree whose references Nix records, so a GC
// root on the profile keeps every package alive. The manifest file names every package path with its
// store context, so even a package whose files are all shadowed stays in the closure: a node that
// keeps the profile keeps everything its lock lists, and the next start needs no download. `allowSubstitutes = false` keeps a build from asking
// caches about a derivation only this node makes.
const PROFILE_EXPRESSION = `{ spec }:
let s = builtins.fromJSON spec;
in derivation {
  name = s.name;
  system = "builtin";
  builder = "builtin:buildenv";
  derivations = builtins.concatLists (map (p:
    [ "true" (toString p.priority) (toString (builtins.length p.paths)) ] ++ map builtins.storePath p.paths
  ) s.packages);
  manifest = builtins.toFile "imageless-profile.json" (builtins.toJSON (s // {
    packages = map (p: p // { paths = map builtins.storePath p.paths; }) s.packages;
  }));
  preferLocalBuild = true;
  allowSubstitutes = false;
}`;

const STORE_NAME = /^[A-Za-z0-9+\-_?=][A-Za-z0-9+\-._?=]*$/;

/**
 * Builds the profile tree of `input` in `store` and returns its store path. The same input gives the
 * same path (the derivation is a function of the input), and building it again is a quick no-op.
 * Every package path must already be valid in `store` (see `realisePaths`).
 *
 * @throws {ImagelessError} `invalid-input` when two packages provide the same file at equal priority
 * (naming both install ids), or for a bad name or extra file path.
 * @example
 * const profile = await buildProfile({ name: "acme-web-4", packages: [{ installId: "hello", priority: 5, paths: [hello] }] }, store);
 */
export async function buildProfile(input: ProfileInput, store: NixStore): Promise<StorePath> {
  if (!STORE_NAME.test(input.name)) {
    throw new ImagelessError(
      "invalid-input",
      `profile name "${input.name}": not a store path name: use letters, digits and + - . _ ? =, not starting with "."`,
    );
  }
  const packages = [...input.packages].sort((a, b) =>
    a.installId < b.installId ? -1 : a.installId > b.installId ? 1 : 0,
  );
  const extra =
    Object.keys(input.extraFiles ?? {}).length > 0 ? await addExtraFiles(input, store) : undefined;
  const linked: ProfilePackage[] =
    extra === undefined
      ? packages
      : [{ installId: "(runtime files)", priority: topPriority(packages), paths: [extra] }, ...packages];

  const conflicts = findProfileConflicts(await planPackages(linked, store));
  const [first] = conflicts;
  if (first !== undefined) {
    const more = conflicts.length > 1 ? ` (and ${conflicts.length - 1} more conflicts)` : "";
    throw new ImagelessError("invalid-input", `${describeConflict(first)}${more}`);
  }

  const spec = JSON.stringify({
    name: input.name,
    packages: linked.map((pkg) => ({ installId: pkg.installId, priority: pkg.priority, paths: pkg.paths })),
  });
  const out = await runNix(
    "nix-build",
    ["--no-out-link", "--expr", PROFILE_EXPRESSION, "--argstr", "spec", spec, ...storeArgs(store)],
    { action: `building profile '${input.name}'` },
  );
  const path = out.trim().split("\n").at(-1) ?? "";
  if (!isStorePath(path)) {
    throw new ImagelessError(
      "internal",
      `building profile '${input.name}': nix-build printed "${path}", not a store path`,
    );
  }
  return path;
}

async function planPackages(packages: readonly ProfilePackage[], store: NixStore): Promise<PlannedPackage[]> {
  const planned: PlannedPackage[] = [];
  for (const pkg of packages) {
    for (const path of pkg.paths) {
      planned.push({
        installId: pkg.installId,
        priority: pkg.priority,
        files: await listStorePathFiles(path, store),
        ...(pkg.ignoreCollisions === true ? { ignoreCollisions: true } : {}),
      });
    }
  }
  return planned;
}

/** A priority number below every package's, so runtime files always win. */
function topPriority(packages: readonly ProfilePackage[]): number {
  return Math.min(0, ...packages.map((pkg) => pkg.priority)) - 1;
}

/** Writes the extra files to a temporary directory and adds it to the store (content-addressed). */
async function addExtraFiles(input: ProfileInput, store: NixStore): Promise<StorePath> {
  const temp = await mkdtemp(join(tmpdir(), "imageless-profile-"));
  try {
    const dir = join(temp, `${input.name}-files`);
    await mkdir(dir);
    for (const [relative, file] of Object.entries(input.extraFiles ?? {})) {
      const normal = posix.normalize(relative);
      if (posix.isAbsolute(normal) || normal.startsWith("..") || normal === ".") {
        throw new ImagelessError(
          "invalid-input",
          `profile '${input.name}': extra file "${relative}": not a relative path inside the profile`,
        );
      }
      const target = join(dir, normal);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, file.content);
      // The store keeps only the executable bit; set both modes explicitly so the umask cannot matter.
      await chmod(target, file.executable === true ? 0o755 : 0o644);
    }
    const out = await runNix("nix-store", ["--add", dir, ...storeArgs(store)], {
      action: `adding the runtime files of profile '${input.name}' to the store`,
    });
    const path = out.trim();
    if (!isStorePath(path)) {
      throw new ImagelessError(
        "internal",
        `adding runtime files: nix-store printed "${path}", not a store path`,
      );
    }
    return path;
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}
