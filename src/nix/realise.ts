import { ImagelessError } from "../errors/imageless-error.js";
import { type NixStore, storeArgs } from "./nix-store.js";
import { nixStderr, runNix, runNixWithOutput } from "./run-nix.js";
import { isStorePath, type StorePath } from "./store-path.js";

/** What {@link realisePaths} did. */
export interface RealiseResult {
  /**
   * Paths that were missing when this call started and were substituted for it (dependencies
   * included); empty when all were valid. A path a concurrent process was fetching is listed too:
   * Nix reports it for both, although only one of them downloads it.
   */
  substituted: StorePath[];
}

/**
 * Makes every path in `paths` (and so its closure) valid in `store`, substituting the missing ones.
 * The store must be initialised first (`ensureStoreReady`, store-init.ts): two processes creating one store's
 * database race.
 * One Nix process either way: `nix-store --realise` checks validity itself and, when all are valid,
 * contacts no substituter (test/integration/nix.test.ts: a counting cache sees no request),
 * so a separate `--check-validity` first would only add a process (~25 ms idle, ~60 ms at load 6) to
 * every cold start. Two processes
 * realising the same path download it once: Nix locks the path before writing it into the store and
 * the process that waited finds it valid and skips the download (checked on nix 2.8 with two
 * processes against one HTTP cache: one GET per nar). No lock of our own is needed.
 *
 * @throws {ImagelessError} `not-found` when no substituter has a path, `failed-precondition` when a path's
 * signature is missing or untrusted, `unavailable` when a substituter cannot be reached.
 * @example
 * const { substituted } = await realisePaths([hello], store);
 */
export async function realisePaths(
  paths: readonly StorePath[],
  store: NixStore,
  onProgress?: (progress: RealiseProgress) => void,
): Promise<RealiseResult> {
  if (paths.length === 0) return { substituted: [] };
  const action = `substituting ${describePaths(paths)}`;
  try {
    // --realise reports its plan and each download on stderr: that is how the result knows what this
    // process fetched, and how the caller hears of progress while it runs.
    const { stderr } = await runNixWithOutput(
      "nix-store",
      ["--realise", ...paths, ...PARALLEL, ...storeArgs(store)],
      {
        action,
        ...(onProgress === undefined ? {} : { onStderrLine: (line) => progressOf(line, onProgress) }),
      },
    );
    return { substituted: copiedPaths(stderr) };
  } catch (error) {
    throw classifyFailure(error, paths, store);
  }
}

// Nix 2.8 counts substitutions against max-jobs (default 1), which would fetch one path at a time.
const PARALLEL = ["--option", "max-jobs", "8"];

/** The paths of `paths` that are not valid in `store`, asking no substituter. */
export async function invalidPaths(paths: readonly StorePath[], store: NixStore): Promise<StorePath[]> {
  if (paths.length === 0) return [];
  const out = await runNix(
    "nix-store",
    ["--check-validity", "--print-invalid", ...paths, ...storeArgs(store)],
    {
      action: `checking ${describePaths(paths)} in the store at ${store.storeRoot}`,
    },
  );
  return out.split("\n").filter(isStorePath);
}

/** `copying path '/nix/store/…' from '…'` lines name what this process downloaded. */
export function copiedPaths(stderr: string): StorePath[] {
  return stderr.split("\n").flatMap((line) => copyingPath(line) ?? []);
}

/** What a running realisation reports: its plan (once, before any download), then each path it copies. */
export type RealiseProgress =
  | {
      readonly kind: "plan";
      /** Paths to fetch, dependencies included. */
      readonly paths: number;
      /** Nix's figures, rounded from the MiB it prints with two decimals. */
      readonly downloadBytes: number;
      readonly unpackedBytes?: number;
    }
  | { readonly kind: "copying"; readonly path: StorePath };

function progressOf(line: string, onProgress: (progress: RealiseProgress) => void): void {
  const plan = fetchPlan(line);
  const path = copyingPath(line);
  if (plan !== undefined) onProgress(plan);
  else if (path !== undefined) onProgress({ kind: "copying", path });
}

/** The store path of one `copying path '…' from '…'...` line of Nix, else undefined. Pure. */
export function copyingPath(line: string): StorePath | undefined {
  const path = /^copying path '([^']+)' from '/.exec(line)?.[1];
  return path !== undefined && isStorePath(path) ? path : undefined;
}

/**
 * The plan Nix (2.8) prints before substituting: `these 4 paths will be fetched (20.00 MiB download,
 * 80.00 MiB unpacked):` or `this path will be fetched (…)`, else undefined. Pure.
 */
export function fetchPlan(line: string): Extract<RealiseProgress, { kind: "plan" }> | undefined {
  const match =
    /^(?:these (\d+) paths|this path) will be fetched \(([\d.]+) MiB download(?:, ([\d.]+) MiB unpacked)?\):$/.exec(
      line.trim(),
    );
  if (match === null) return undefined;
  const [, count, download, unpacked] = match;
  return {
    kind: "plan",
    paths: count === undefined ? 1 : Number(count),
    downloadBytes: mibToBytes(download ?? "0"),
    ...(unpacked === undefined ? {} : { unpackedBytes: mibToBytes(unpacked) }),
  };
}

function mibToBytes(mib: string): number {
  return Math.round(Number(mib) * 1024 * 1024);
}

function classifyFailure(error: unknown, missing: readonly StorePath[], store: NixStore): unknown {
  const stderr = nixStderr(error);
  if (stderr === undefined) return error;
  const caches = store.substituters.length === 0 ? "none configured" : store.substituters.join(", ");
  const unsigned = /substitute for '([^']+)' from '[^']*' is not signed by any of the keys/.exec(stderr);
  if (unsigned !== null) {
    return new ImagelessError(
      "failed-precondition",
      `substituting ${unsigned[1]}: the cache's copy is unsigned or signed by a key not in trusted-public-keys` +
        ` (${store.trustedPublicKeys.join(", ") || "none"}): add the cache's public key to [nix] trusted-public-keys` +
        ` in the node config, or set require-sigs = false for an unsigned cache`,
      { cause: error },
    );
  }
  // Nix checks every NAR against the hash its signed narinfo names and imports nothing that differs.
  const corrupt = /hash mismatch importing path '([^']+)'/.exec(stderr);
  if (corrupt !== null) {
    const from = new RegExp(`copying path '${escapeRegExp(corrupt[1] ?? "")}' from '([^']+)'`).exec(stderr);
    return new ImagelessError(
      "unavailable",
      `substituting ${corrupt[1]}: the binary cache${from === null ? "" : ` ${from[1]}`} served a NAR whose hash does not match its narinfo, so Nix refused it (nothing was stored): the cache's copy is corrupt; repair or re-upload it`,
      { cause: error },
    );
  }
  const unreachable = /unable to download '([^']+)'/.exec(stderr);
  if (unreachable !== null && /don't know how to build/.test(stderr)) {
    return new ImagelessError(
      "unavailable",
      `substituting ${describePaths(missing)}: cannot reach the binary cache (${unreachable[1]}): check [nix] substituters and the node's network`,
      { cause: error },
    );
  }
  if (/don't know how to build these paths/.test(stderr)) {
    const absent = unbuildablePaths(stderr);
    return new ImagelessError(
      "not-found",
      `store ${absent.length === 1 ? "path" : "paths"} ${describePaths(absent.length > 0 ? absent : missing)} not found in any substituter (${caches})`,
      { cause: error },
    );
  }
  return error;
}

/** The indented paths Nix lists after `don't know how to build these paths:`. */
function unbuildablePaths(stderr: string): StorePath[] {
  const lines = stderr.split("\n");
  const start = lines.findIndex((line) => line.includes("don't know how to build these paths"));
  const found: StorePath[] = [];
  for (const line of lines.slice(start + 1)) {
    const trimmed = line.trim();
    if (!line.startsWith(" ") || !isStorePath(trimmed)) break;
    found.push(trimmed);
  }
  return found;
}

function describePaths(paths: readonly string[]): string {
  if (paths.length <= 3) return paths.map((path) => `'${path}'`).join(", ");
  return `${paths.length} store paths ('${paths[0]}', …)`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
