import { join } from "node:path";
import type { StorePath } from "./store-path.js";

/**
 * The Nix store the node realises into, and where it may substitute from. Every Nix call takes its
 * settings from here (as `--option`), so the host's nix.conf matters only for what this does not set
 * (build users, sandbox): a node behaves the same whatever its nix.conf says about caches and keys.
 */
export interface NixStore {
  /** `/` for the host store; any other directory holds a chroot store at `<storeRoot>/nix/store`. */
  storeRoot: string;
  /** Binary cache URLs (`https://…`, `file://…`), tried in order. */
  substituters: readonly string[];
  /** `name:base64key` entries; a substituted path must be signed by one of them when `requireSigs`. */
  trustedPublicKeys: readonly string[];
  requireSigs: boolean;
  /** A netrc file with credentials for the substituters (see netrc.ts), e.g. a pod's hub token. */
  netrcFile?: string;
}

/**
 * The arguments every Nix call against `store` starts with.
 *
 * @example
 * storeArgs({ storeRoot: "/tmp/s", substituters: [], trustedPublicKeys: [], requireSigs: true });
 * // ["--store", "local?root=/tmp/s", "--option", "substituters", "", …]
 */
export function storeArgs(store: NixStore): string[] {
  const args: string[] = [];
  if (store.storeRoot !== "/") args.push("--store", `local?root=${store.storeRoot}`);
  args.push(
    // An empty list must be passed explicitly: left unset, Nix falls back to cache.nixos.org, which
    // costs seconds of retries on a node without internet.
    "--option",
    "substituters",
    store.substituters.join(" "),
    "--option",
    "trusted-public-keys",
    store.trustedPublicKeys.join(" "),
    "--option",
    "require-sigs",
    store.requireSigs ? "true" : "false",
    // Nix remembers "not in this cache" for an hour by default; a path pushed to the hub a minute
    // later must be found by the next container start.
    "--option",
    "narinfo-cache-negative-ttl",
    "0",
  );
  if (store.netrcFile !== undefined) args.push("--option", "netrc-file", store.netrcFile);
  return args;
}

/** Where the files of `path` live on this machine (`<storeRoot>/nix/store/…`). */
export function realPath(store: NixStore, path: StorePath): string {
  return store.storeRoot === "/" ? path : join(store.storeRoot, path);
}
