import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImagelessError } from "../errors/imageless-error.js";
import type { Secret } from "../log/secret.js";
import { netrcFor } from "./netrc.js";
import { nixStderr, runNix, runNixWithOutput } from "./run-nix.js";
import type { StorePath } from "./store-path.js";

/** Where {@link copyClosureTo} uploads and from which store. */
export interface CopyOptions {
  /** A binary cache URL (`http(s)://…/cache`, `file://…`). zstd compression is added for http(s). */
  readonly to: string;
  /** Sent as HTTP Basic `oauth:<token>` through a private netrc file, never on the command line. */
  readonly token?: Secret;
  /** The Nix store URL holding the paths (`local?root=/tmp/s`); the default store when absent. */
  readonly fromStore?: string;
  /** Called as each path starts uploading (the cache lacked it). */
  readonly onPath?: (path: StorePath) => void;
}

/** What {@link copyClosureTo} uploaded. */
export interface CopyResult {
  /** Paths of the closure the cache did not have yet. */
  readonly copied: StorePath[];
}

/**
 * Uploads `paths` and their closures to a binary cache with `nix copy --to`; paths the cache already
 * has are skipped by Nix. Nix's narinfo disk cache starts empty for each call, so a cache that was
 * emptied or replaced at the same URL is filled again.
 *
 * @throws {ImagelessError} `unauthorized` when the cache refuses the token, `unavailable` when it cannot
 *   be reached, `not-found` when a path is not in the source store.
 * @example
 * await copyClosureTo([hello], { to: "http://127.0.0.1:7878/cache", token });
 */
export async function copyClosureTo(paths: readonly StorePath[], opts: CopyOptions): Promise<CopyResult> {
  if (paths.length === 0) return { copied: [] };
  const dir = await mkdtemp(join(tmpdir(), "imageless-nix-copy-"));
  try {
    const args = ["copy", "--to", cacheUrlForUpload(opts.to), ...paths, ...COPY_OPTIONS];
    if (opts.fromStore !== undefined) args.push("--from", opts.fromStore);
    if (opts.token !== undefined) {
      const netrc = join(dir, "netrc");
      await writeFile(netrc, netrcFor([opts.to], opts.token), { mode: 0o600 });
      args.push("--option", "netrc-file", netrc);
    }
    const action = `copying ${paths.length === 1 ? `'${paths[0]}'` : `${paths.length} store paths`} to ${opts.to}`;
    try {
      // A private XDG_CACHE_HOME gives Nix an empty narinfo disk cache: the shared one may remember
      // paths as present in a cache that was since emptied or replaced at the same URL, and then skip
      // them. The TTL options cannot do this: with a positive TTL of 0, Nix 2.8 also forgets the paths
      // it has just uploaded and refuses their referrers ("the reference … is not valid").
      const env = { ...process.env, XDG_CACHE_HOME: join(dir, "xdg-cache") };
      const onPath = opts.onPath;
      const { stderr } = await runNixWithOutput("nix", args, {
        action,
        env,
        ...(onPath === undefined
          ? {}
          : {
              onStderrLine: (line: string) => {
                for (const path of copiedTo(line)) onPath(path);
              },
            }),
      });
      return { copied: copiedTo(stderr) };
    } catch (error) {
      throw classifyCopyFailure(error, action);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const COPY_OPTIONS = ["--extra-experimental-features", "nix-command"];

/**
 * The closure of `paths` in the store `fromStore` (default: the local one) with each path's NAR size:
 * what an upload may move, for progress lines.
 */
export async function closureSizes(
  paths: readonly StorePath[],
  fromStore?: string,
): Promise<Map<StorePath, number>> {
  const args = ["path-info", "--json", "--recursive", ...paths, ...COPY_OPTIONS];
  if (fromStore !== undefined) args.push("--store", fromStore);
  const out = await runNix("nix", args, { action: "listing the closure to upload" });
  return parsePathInfoSizes(out);
}

/** `nix path-info --json` output → NAR size by path (pure). */
export function parsePathInfoSizes(json: string): Map<StorePath, number> {
  const sizes = new Map<StorePath, number>();
  const parsed: unknown = JSON.parse(json);
  if (!Array.isArray(parsed)) return sizes;
  for (const entry of parsed) {
    if (typeof entry?.path === "string" && typeof entry?.narSize === "number") {
      sizes.set(entry.path as StorePath, entry.narSize);
    }
  }
  return sizes;
}

/** `url` with `compression=zstd` for an http(s) cache that names no compression (pure). */
export function cacheUrlForUpload(url: string): string {
  if (!/^https?:\/\//.test(url) || /[?&]compression=/.test(url)) return url;
  return `${url}${url.includes("?") ? "&" : "?"}compression=zstd`;
}

/** `copying path '/nix/store/…' [from '…'] to '…'` lines name what was uploaded (pure). */
export function copiedTo(stderr: string): StorePath[] {
  // Nix 2.8 names the source only when it is not the default store: "… from '<src>' to '<dst>'".
  return [...stderr.matchAll(/^copying path '(\/nix\/store\/[^']+)' (?:from '[^']*' )?to '/gm)].map(
    (m) => m[1] as StorePath,
  );
}

function classifyCopyFailure(error: unknown, action: string): unknown {
  const stderr = nixStderr(error);
  if (stderr === undefined) return error;
  if (/HTTP error 40[13]|response code 40[13]|\b40[13]\b.*(Unauthorized|Forbidden)/i.test(stderr)) {
    return new ImagelessError(
      "unauthorized",
      `${action}: the cache refused the upload: log in with a token that may write there (imageless auth login)`,
      { cause: error },
    );
  }
  if (
    /path '[^']+' is not valid|does not exist|don't know how to build|no substituter that can build it/.test(
      stderr,
    )
  ) {
    return new ImagelessError(
      "not-found",
      `${action}: a path is not in the local store: build or fetch it first, or name its store with --from-store`,
      { cause: error },
    );
  }
  if (/Couldn't connect|Connection refused|Could not resolve host|HTTP error 5\d\d|timed out/i.test(stderr)) {
    return new ImagelessError("unavailable", `${action}: the cache cannot be reached`, { cause: error });
  }
  return error;
}
