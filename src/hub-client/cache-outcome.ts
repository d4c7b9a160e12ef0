/**
 * What an upload to the hub's cache really achieved: after `nix copy`, every path of the closure is
 * looked up in the owner's namespace and its NarHash compared with the local one. Nix skips a path
 * the cache already answers for without comparing content, so this is where a path that is there
 * with other content (uploaded earlier by another writer of the owner) is found and reported.
 */
import { ImagelessError } from "../errors/imageless-error.js";
import { parseNarInfo } from "../hub/binary-cache/narinfo.js";
import type { Secret } from "../log/secret.js";
import type { ClosurePath } from "../nix/copy.js";
import type { StorePath } from "../nix/store-path.js";

/** The outcome of one path: what the cache holds compared with the local path. */
export type PathOutcome = "copied" | "present" | "different" | "missing";

/** The counted outcome of an upload. */
export interface UploadOutcome {
  /** Uploaded by this push and now in the cache. */
  readonly copied: number;
  /** Already in the cache with the same content: not uploaded again. */
  readonly present: number;
}

/**
 * Decides each path's outcome from the cache's NarHash (undefined: the cache has none) (pure).
 *
 * @example
 * judgePath({ path, narHash: "sha256:1…" }, "sha256:1…", true); // "copied"
 */
export function judgePath(local: ClosurePath, cached: string | undefined, uploaded: boolean): PathOutcome {
  if (cached === undefined) return "missing";
  if (cached !== local.narHash) return "different";
  return uploaded ? "copied" : "present";
}

/**
 * Counts the outcome of copying `closure` to `cacheUrl` (`<hub>/cache/<owner>`).
 *
 * @throws {ImagelessError} `failed-precondition` naming the first path the cache holds with other
 *   content or does not hold at all; `unavailable` when the cache cannot be asked.
 */
export async function checkUploadOutcome(
  closure: readonly ClosurePath[],
  copied: readonly StorePath[],
  opts: { readonly cacheUrl: string; readonly token?: Secret },
): Promise<UploadOutcome> {
  const uploaded = new Set<string>(copied);
  const outcomes: { local: ClosurePath; outcome: PathOutcome }[] = [];
  // A few requests at a time: a closure can have thousands of paths.
  for (let at = 0; at < closure.length; at += 16) {
    const batch = closure.slice(at, at + 16);
    outcomes.push(
      ...(await Promise.all(
        batch.map(async (local) => ({
          local,
          outcome: judgePath(local, await cachedNarHash(local.path, opts), uploaded.has(local.path)),
        })),
      )),
    );
  }
  const wrong = outcomes.find(({ outcome }) => outcome === "different" || outcome === "missing");
  if (wrong !== undefined) {
    const why =
      wrong.outcome === "different"
        ? "holds it with other content (uploaded earlier by another writer): build it from the same inputs, or push it under another owner"
        : "does not hold it after the upload";
    throw new ImagelessError(
      "failed-precondition",
      `the cache at ${opts.cacheUrl} ${why}: ${wrong.local.path}`,
    );
  }
  return {
    copied: outcomes.filter(({ outcome }) => outcome === "copied").length,
    present: outcomes.filter(({ outcome }) => outcome === "present").length,
  };
}

async function cachedNarHash(
  path: StorePath,
  opts: { readonly cacheUrl: string; readonly token?: Secret },
): Promise<string | undefined> {
  const hash = path.slice("/nix/store/".length, "/nix/store/".length + 32);
  const headers: Record<string, string> =
    opts.token === undefined
      ? {}
      : { authorization: `Basic ${Buffer.from(`oauth:${opts.token.reveal()}`).toString("base64")}` };
  let response: Response;
  try {
    response = await fetch(`${opts.cacheUrl}/${hash}.narinfo`, {
      headers,
      redirect: "error",
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    throw new ImagelessError(
      "unavailable",
      `checking ${path} in the cache at ${opts.cacheUrl}: unreachable`,
      {
        cause: error,
      },
    );
  }
  const text = await response.text();
  if (response.status === 404) return undefined;
  if (!response.ok) {
    throw new ImagelessError(
      "unavailable",
      `checking ${path} in the cache at ${opts.cacheUrl}: HTTP ${response.status}`,
    );
  }
  return parseNarInfo(text, `${hash}.narinfo from ${opts.cacheUrl}`).narHash;
}
