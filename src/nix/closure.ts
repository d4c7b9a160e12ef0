import { type NixStore, storeArgs } from "./nix-store.js";
import { runNix } from "./run-nix.js";
import { isStorePath, type StorePath } from "./store-path.js";

/**
 * Every store path `paths` need at run time (their closure, themselves included), as Nix records it.
 * The paths must be valid in `store`.
 *
 * @throws {ImagelessError} when a path is not valid in the store.
 * @example
 * const mounts = await queryClosure([profile], store);
 */
export async function queryClosure(paths: readonly StorePath[], store: NixStore): Promise<StorePath[]> {
  if (paths.length === 0) return [];
  const out = await runNix("nix-store", ["--query", "--requisites", ...paths, ...storeArgs(store)], {
    action: `querying the closure of ${paths.length === 1 ? `'${paths[0]}'` : `${paths.length} store paths`}`,
  });
  return out.split("\n").filter(isStorePath);
}
