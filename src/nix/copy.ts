import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImagelessError } from "../errors/imageless-error.js";
import { toNixBase32 } from "../hub/binary-cache/nix-base32.js";
import type { Secret } from "../log/secret.js";
import { netrcFor } from "./netrc.js";
import { nixStderr, runNixWithOutput } from "./run-nix.js";
import { isStorePath, type StorePath } from "./store-path.js";

/** Where {@link copyClosureTo} uploads and from which store. */
export interface CopyOptions {
  /** A binary cache URL (`http(s)://…/cache`, `file://…`). zstd compression is added for http(s). */
  readonly to: string;
  /** Sent as HTTP Basic `oauth:<token>` through a private netrc file, never on the command line. */
  readonly token?: Secret;
  /** The Nix store URL holding the paths (`local?root=/tmp/s`); the default store when absent. */
  readonly fromStore?: string;
  /** Called once with the whole closure before anything is uploaded (for progress: paths, bytes). */
  readonly onClosure?: (closure: readonly ClosurePath[]) => void;
  /** Called as each path starts uploading (the cache lacked it). */
  readonly onPath?: (path: StorePath) => void;
}

/** One path of the copied closure as the source store records it. */
export interface ClosurePath {
  readonly path: StorePath;
  /** `sha256:<Nix base-32>`, as narinfo files write it. */
  readonly narHash: string;
  /** The NAR's size in bytes (what an upload of it moves, uncompressed). */
  readonly narSize: number;
}

/** What {@link copyClosureTo} did. */
export interface CopyResult {
  /** Paths Nix uploaded (the cache did not answer for them before). */
  readonly copied: StorePath[];
  /** The whole closure of the paths, with the NarHash the source store has for each. */
  readonly closure: ClosurePath[];
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
  if (paths.length === 0) return { copied: [], closure: [] };
  const closure = await closureOf(paths, opts.fromStore);
  opts.onClosure?.(closure);
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
      return { copied: copiedTo(stderr), closure };
    } catch (error) {
      throw classifyCopyFailure(error, action);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const COPY_OPTIONS = ["--extra-experimental-features", "nix-command"];

/** The closure of `paths` in the source store with each path's NarHash (`nix path-info --json -r`). */
async function closureOf(paths: readonly StorePath[], fromStore: string | undefined): Promise<ClosurePath[]> {
  const args = ["path-info", "--json", "--recursive", ...paths, ...COPY_OPTIONS];
  if (fromStore !== undefined) args.push("--store", fromStore);
  const action = `reading the closure of ${paths.length === 1 ? `'${paths[0]}'` : `${paths.length} store paths`}`;
  let stdout: string;
  try {
    ({ stdout } = await runNixWithOutput("nix", args, { action }));
  } catch (error) {
    throw classifyCopyFailure(error, action);
  }
  return parsePathInfo(stdout, action);
}

/**
 * `nix path-info --json` output as paths with base-32 NarHashes and NAR sizes (pure). Nix 2.8 writes
 * `narHash` as SRI (`sha256-<base64>`); narinfo files use `sha256:<Nix base-32>`.
 *
 * @throws {ImagelessError} `internal` when the output is not what Nix writes.
 */
export function parsePathInfo(json: string, source: string): ClosurePath[] {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (error) {
    throw new ImagelessError("internal", `${source}: nix path-info printed no JSON`, { cause: error });
  }
  if (!Array.isArray(data)) throw new ImagelessError("internal", `${source}: nix path-info printed no list`);
  return data.map((entry: unknown) => {
    const { path, narHash, narSize } = (entry ?? {}) as {
      path?: unknown;
      narHash?: unknown;
      narSize?: unknown;
    };
    if (
      typeof path !== "string" ||
      !isStorePath(path) ||
      typeof narHash !== "string" ||
      typeof narSize !== "number"
    ) {
      throw new ImagelessError(
        "internal",
        `${source}: nix path-info printed an entry without path, narHash and narSize`,
      );
    }
    return { path, narHash: base32NarHash(narHash), narSize };
  });
}

function base32NarHash(hash: string): string {
  const sri = /^sha256-([A-Za-z0-9+/]{43}=)$/.exec(hash);
  return sri === null ? hash : `sha256:${toNixBase32(Buffer.from(sri[1] ?? "", "base64"))}`;
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

/**
 * The hub's refusal of an upload for its content (409 conflict, 413 limit) as Nix 2.8 prints it —
 * `HTTP error 409 ('Conflict')`, an indented `response body:` and the hub's line — or undefined (pure).
 *
 * @example
 * cacheRefusal("… HTTP error 409 ('Conflict')\n\n   response body:\n\n   /nix/store/… exists …");
 * // "HTTP 409: /nix/store/… exists …"
 */
export function cacheRefusal(stderr: string): string | undefined {
  const match = /HTTP error (409|413)\b[^\n]*(?:\s*\n\s*response body:\s*\n\s*([^\n]+))?/.exec(stderr);
  if (match === null) return undefined;
  const fallback =
    match[1] === "409" ? "a path is there already with other content" : "over the hub's size limit or quota";
  return `HTTP ${match[1]}: ${match[2]?.trim() || fallback}`;
}

function classifyCopyFailure(error: unknown, action: string): unknown {
  const stderr = nixStderr(error);
  if (stderr === undefined) return error;
  const refused = cacheRefusal(stderr);
  if (refused !== undefined) {
    return new ImagelessError("failed-precondition", `${action}: the cache refused an upload (${refused})`, {
      cause: error,
    });
  }
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
