import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Secret } from "../log/secret.js";

/**
 * A netrc giving `oauth:<token>` to the host of every http(s) URL in `urls` (pure; the caller writes
 * it 0600). netrc matches hosts, not ports or paths, which is as precise as Nix can be told: `urls`
 * must be the token's scope (the hub's cache, `tokenScope` in node-deps.ts), never the substituter
 * list, and no other substituter may share those hosts (the node config refuses one).
 */
export function netrcFor(urls: readonly string[], token: Secret): string {
  const hosts = new Set(urls.filter((url) => /^https?:\/\//.test(url)).map((url) => new URL(url).hostname));
  return [...hosts].map((host) => `machine ${host} login oauth password ${token.reveal()}\n`).join("");
}

/**
 * Runs `fn` with the path of a private netrc (mode 0600 in a fresh 0700 directory) for `urls`, removed
 * afterwards; without a token or an http(s) URL, `fn` gets undefined. The token reaches Nix through this
 * file only: never argv (world-readable in /proc), never the environment of a long-lived process.
 */
export async function withNetrc<T>(
  urls: readonly string[],
  token: Secret | undefined,
  fn: (netrcFile: string | undefined) => Promise<T>,
): Promise<T> {
  const text = token === undefined ? "" : netrcFor(urls, token);
  if (text === "") return fn(undefined);
  const dir = await mkdtemp(join(tmpdir(), "imageless-netrc-"));
  try {
    const file = join(dir, "netrc");
    await writeFile(file, text, { mode: 0o600 });
    return await fn(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
