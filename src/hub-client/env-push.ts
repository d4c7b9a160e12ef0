import type { Lockfile } from "../environment/lockfile.js";
import { ImagelessError } from "../errors/imageless-error.js";
import { deriveGitBaseUrl, floxmetaUrl } from "../floxhub/git-url.js";
import type { Secret } from "../log/secret.js";
import { copyClosureTo } from "../nix/copy.js";
import type { StorePath } from "../nix/store-path.js";
import { type EnvRef, HubApiClient } from "./api-client.js";
import { checkUploadOutcome } from "./cache-outcome.js";
import { readEnvironmentDir } from "./environment-dir.js";
import { commitFiles, fetchBranch, pushCommit, withScratchRepo } from "./floxmeta-branch.js";
import { initializeMessage, initialMetadataText, planGeneration } from "./generation-plan.js";
import { deriveCacheUrl } from "./hub-urls.js";

/** When to upload the lock's store paths to the hub's cache. */
export type CopyPathsMode = "always" | "never" | "auto";

/** Options of {@link pushEnvironment}. */
export interface PushOptions {
  /** The Flox environment directory (holding `.flox/env/manifest.toml`). */
  readonly dir: string;
  readonly ref: EnvRef;
  readonly hubUrl: string;
  readonly token: Secret | undefined;
  /** `auto`: upload, and only note it when the cache refuses or a path is not local. */
  readonly copyPaths: CopyPathsMode;
  /** Nix store URL holding the paths (default: the local store). */
  readonly fromStore?: string;
  /** git base URL override (default derived from the hub URL). */
  readonly gitUrl?: string;
  /** Recorded in the history entry. */
  readonly hostname: string;
  readonly timestamp: number;
  readonly command: readonly string[];
  /** Systems to lock store-path packages for when the manifest names none. */
  readonly localSystem: string;
  /** Told what the upload moves, path by path (the CLI prints it on a terminal). */
  readonly onProgress?: (event: PushProgress) => void;
}

/** What {@link pushEnvironment} reports while uploading store paths. */
export type PushProgress =
  /** The closure to upload: the cache may have some of it already. */
  | { readonly kind: "closure"; readonly to: string; readonly paths: number; readonly bytes: number }
  /** One path the cache lacked, as its upload starts; `bytes` is its NAR size when known. */
  | { readonly kind: "path"; readonly path: StorePath; readonly bytes?: number };

/** What {@link pushEnvironment} did. */
export interface PushResult {
  readonly ref: EnvRef;
  readonly generation: number;
  readonly commit: string;
  /** The environment did not exist before this push. */
  readonly created: boolean;
  readonly lockedHere: boolean;
  /** Paths uploaded to the owner's cache (closures included); undefined when no copy was made. */
  readonly copied?: number;
  /** Their NAR bytes, when the closure's sizes could be read. */
  readonly copiedBytes?: number;
  /** Paths of the closures the owner's cache already held with the same content (not uploaded). */
  readonly alreadyPresent?: number;
  /** Why the copy was skipped in `auto` mode. */
  readonly copySkipped?: string;
}

/**
 * Creates the next generation of `owner/name` from a Flox environment directory, as `flox push`
 * does: fetch the branch (or start it with an "Initialize generations branch…" commit holding empty
 * metadata), add `N/env/manifest.{toml,lock}`, append the history entry to `metadata.json`, one
 * commit "Create generation N", push with Basic `oauth:<token>`. The store paths are uploaded to the
 * hub's cache first, so a pod never sees a live generation whose packages are missing there.
 *
 * @throws {ImagelessError} `unauthorized` without a token or with a refused one; `invalid-input` for
 *   the directory's content; `failed-precondition` when the hub refuses the push.
 */
export async function pushEnvironment(opts: PushOptions): Promise<PushResult> {
  const content = await readEnvironmentDir(opts.dir, opts.localSystem);
  if (opts.token === undefined) {
    throw new ImagelessError(
      "unauthorized",
      "env push needs a hub token: run `imageless auth login` or set IMAGELESS_TOKEN",
    );
  }
  const account = await new HubApiClient({ hubUrl: opts.hubUrl, token: opts.token }).me();
  const copy = await copyPaths(lockStorePaths(content.lock), opts);
  const remote = {
    url: floxmetaUrl(deriveGitBaseUrl(opts.hubUrl, opts.gitUrl), opts.ref.owner),
    token: opts.token,
  };
  return await withScratchRepo(async (repo) => {
    const tip = await fetchBranch(repo, remote, opts.ref.name);
    const plan = planGeneration(tip?.metadataText, content, {
      name: opts.ref.name,
      author: account.handle,
      hostname: opts.hostname,
      timestamp: opts.timestamp,
      command: opts.command,
    });
    const parent =
      tip?.commit ??
      (await commitFiles(repo, {
        message: initializeMessage(opts.ref.name),
        files: { "metadata.json": initialMetadataText() },
      }));
    const commit = await commitFiles(repo, { parent, message: plan.message, files: plan.files });
    await pushCommit(repo, remote, commit, opts.ref.name);
    return {
      ref: opts.ref,
      generation: plan.generation,
      commit,
      created: tip === undefined,
      lockedHere: content.lockedHere,
      ...copy,
    };
  });
}

/** Every store path a lock names, any system (pure). */
export function lockStorePaths(lock: Lockfile): StorePath[] {
  const paths = new Set<StorePath>();
  for (const pkg of lock.packages) {
    if (pkg.kind === "store-path") paths.add(pkg.storePath);
    else for (const path of Object.values(pkg.outputs)) paths.add(path);
  }
  return [...paths].sort();
}

async function copyPaths(
  paths: readonly StorePath[],
  opts: PushOptions,
): Promise<{ copied?: number; copiedBytes?: number; alreadyPresent?: number; copySkipped?: string }> {
  if (opts.copyPaths === "never" || paths.length === 0) return {};
  // The owner's own namespace: what this push uploads is served only for the owner's environments.
  const cacheUrl = deriveCacheUrl(opts.hubUrl, opts.ref.owner);
  const token = opts.token === undefined ? {} : { token: opts.token };
  const progress = opts.onProgress;
  const sizes = new Map<StorePath, number>();
  try {
    const { copied, closure } = await copyClosureTo(paths, {
      to: cacheUrl,
      ...token,
      ...(opts.fromStore === undefined ? {} : { fromStore: opts.fromStore }),
      onClosure: (closure) => {
        for (const entry of closure) sizes.set(entry.path, entry.narSize);
        progress?.({ kind: "closure", to: cacheUrl, paths: closure.length, bytes: sum([...sizes.values()]) });
      },
      ...(progress === undefined
        ? {}
        : {
            onPath: (path: StorePath) => {
              const bytes = sizes.get(path);
              progress(bytes === undefined ? { kind: "path", path } : { kind: "path", path, bytes });
            },
          }),
    });
    // Nix says what it sent, not what the cache kept: ask the cache (a path it already held with
    // other content is an error here, never "copied").
    const outcome = await checkUploadOutcome(closure, copied, { cacheUrl, ...token });
    const copiedBytes = sum(copied.map((path) => sizes.get(path) ?? 0));
    return { copied: outcome.copied, copiedBytes, alreadyPresent: outcome.present };
  } catch (error) {
    // In auto mode a cache that is read-only for this token, a hub without a cache (hub.flox.dev) or
    // paths that are only in some other machine's store are normal: say so and push the generation.
    // A refusal of content (a conflict, a limit: failed-precondition) is never skipped quietly.
    if (
      opts.copyPaths === "auto" &&
      error instanceof ImagelessError &&
      error.kind !== "failed-precondition"
    ) {
      return { copySkipped: error.message };
    }
    throw error;
  }
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
