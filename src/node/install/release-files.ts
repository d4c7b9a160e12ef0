import { createHash } from "node:crypto";
import { lstat, readdir, readFile, readlink } from "node:fs/promises";
import { join } from "node:path";
import { ImagelessError } from "../../errors/imageless-error.js";

/** One file or directory copied from the build into a release, `target` relative to the release dir. */
export interface ReleaseEntry {
  readonly source: string;
  readonly target: string;
  /** Paths under `source` (relative, `/`-separated) left out of the release. */
  readonly skip?: (relative: string) => boolean;
}

/**
 * A native addon (a package with binding.gyp) needs only its compiled `build/Release/*.node` at run
 * time, not its C sources (`deps/`, `src/`) nor the build's intermediates: 28 MB → 2 MB for
 * better-sqlite3, and install copies that much less.
 */
function nativeAddonBuildOnly(relative: string): boolean {
  if (/^(deps|src)(\/|$)/.test(relative)) return true;
  if (!relative.startsWith("build/")) return false;
  return !(relative === "build/Release" || /^build\/Release\/[^/]+\.node$/.test(relative));
}

/** The programs containerd and operators run, relative to a release (and to `<prefix>/bin`). */
export const RELEASE_PROGRAMS = {
  /** The runc wrapper, containerd's `options.BinaryName` for the flox handler. */
  runc: "bin/imageless-runc",
  /** The operator CLI. */
  cli: "bin/imageless",
  /** Flox's documented `runtime_path` launcher (containerd ≥ 1.6.21 / 1.7.1). */
  shim: "bin/containerd-shim-flox-v2",
  /** The static hop from the wrapper to the node agent (native/agent-client.c, built by native/build.sh). */
  agentClient: "bin/imageless-agent-client",
} as const;

/**
 * The single executable (Node SEA: the CLI, the wrapper's create/exec/delete, the agent and the
 * telemetry sender in one file, `npm run build:node-binary`), relative to a build and to a release.
 * The bin/ scripts run it when it sits beside them, so a node with it needs no Node.js.
 */
export const NODE_BINARY = { build: "dist/node-binary/imageless", release: "bin/imageless-node" } as const;

/**
 * EVERYTHING a node release holds, in one place: the bin/ scripts, libexec/, the single executable
 * when the build has one (scripts/setup.sh builds it; then the node needs no Node.js), and the
 * compiled dist/src with the run-time node_modules it imports (what the scripts run with `node` from
 * PATH when there is no single executable, and what `hub` database commands need). Nothing else in
 * the installer names a file of the build.
 *
 * @throws {ImagelessError} `failed-precondition` when the build is incomplete (no dist/, a missing dependency)
 */
export async function releaseManifest(repo: string): Promise<ReleaseEntry[]> {
  const entries: ReleaseEntry[] = [
    ...Object.values(RELEASE_PROGRAMS).map((target) => ({ source: join(repo, target), target })),
    { source: join(repo, "libexec"), target: "libexec" },
    { source: join(repo, "dist", "src"), target: "dist/src" },
    { source: join(repo, "package.json"), target: "package.json" },
  ];
  const nodeBinary = join(repo, NODE_BINARY.build);
  if (
    await lstat(nodeBinary).then(
      () => true,
      () => false,
    )
  ) {
    entries.push({ source: nodeBinary, target: NODE_BINARY.release });
  }
  for (const name of await runtimeDependencies(repo)) {
    const source = join(repo, "node_modules", name);
    const native = await lstat(join(source, "binding.gyp")).then(
      () => true,
      () => false,
    );
    entries.push({
      source,
      target: `node_modules/${name}`,
      ...(native ? { skip: nativeAddonBuildOnly } : {}),
    });
  }
  for (const entry of entries) {
    await lstat(entry.source).catch((error: unknown) => {
      throw new ImagelessError(
        "failed-precondition",
        `installing from ${repo}: ${entry.source} is missing: run \`bash scripts/setup.sh\` (npm ci, the build and native/build.sh) there first`,
        { cause: error },
      );
    });
  }
  return entries;
}

/**
 * A release's name: the package version and a hash of every file it holds, so the same build
 * installs once (a second `node install` changes nothing) and a new build gets a new directory
 * beside the running one.
 */
export async function releaseId(repo: string, entries: readonly ReleaseEntry[]): Promise<string> {
  const hash = createHash("sha256");
  for (const entry of entries) {
    // Dependencies are pinned by the lock file; hashing their trees would read ~10^4 files per run.
    if (entry.target.startsWith("node_modules/")) continue;
    await hashTree(entry.source, entry.target, hash);
  }
  hash.update(await readFile(join(repo, "package-lock.json")).catch(() => Buffer.alloc(0)));
  const pkg: unknown = JSON.parse(await readFile(join(repo, "package.json"), "utf8"));
  const version =
    typeof pkg === "object" && pkg !== null && "version" in pkg && typeof pkg.version === "string"
      ? pkg.version
      : "0";
  return `${version}-${hash.digest("hex").slice(0, 12)}`;
}

async function hashTree(path: string, name: string, hash: ReturnType<typeof createHash>): Promise<void> {
  const info = await lstat(path);
  hash.update(`${name}\0${info.mode & 0o111 ? "x" : "-"}\0`);
  if (info.isSymbolicLink()) hash.update(`link:${await readlink(path)}\0`);
  else if (info.isDirectory()) {
    for (const child of (await readdir(path)).sort())
      await hashTree(join(path, child), `${name}/${child}`, hash);
  } else hash.update(await readFile(path));
}

/**
 * The packages `dependencies` of package.json need at run time, transitively, as found in the
 * top-level node_modules (a package's own nested node_modules travel inside its directory).
 */
async function runtimeDependencies(repo: string): Promise<string[]> {
  const seen = new Set<string>();
  const queue = Object.keys(await dependenciesOf(join(repo, "package.json")));
  while (queue.length > 0) {
    const name = queue.shift() ?? "";
    // Type declarations are for the compiler; some packages list @types/node as a dependency.
    if (seen.has(name) || name.startsWith("@types/")) continue;
    const manifest = join(repo, "node_modules", name, "package.json");
    const deps = await dependenciesOf(manifest).catch(() => undefined);
    // An optional dependency that is not installed (another platform's binary) is fine to skip.
    if (deps === undefined) continue;
    seen.add(name);
    queue.push(...Object.keys(deps));
  }
  return [...seen].sort();
}

async function dependenciesOf(manifest: string): Promise<Record<string, unknown>> {
  const pkg: unknown = JSON.parse(await readFile(manifest, "utf8"));
  if (typeof pkg !== "object" || pkg === null) return {};
  const pick = (key: string): Record<string, unknown> => {
    const value = key in pkg ? (pkg as Record<string, unknown>)[key] : undefined;
    return typeof value === "object" && value !== null ? { ...value } : {};
  };
  return { ...pick("dependencies"), ...pick("optionalDependencies") };
}
