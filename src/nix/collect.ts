import { type NixStore, storeArgs } from "./nix-store.js";
import { runNix } from "./run-nix.js";
import { isStorePath, type StorePath } from "./store-path.js";

/**
 * The NAR size in bytes of each path (what it takes on disk, uncompressed), as Nix records it.
 * Paths must be valid in `store`.
 *
 * @example
 * const sizes = await storePathSizes([profile], store); // Map { "/nix/store/…-profile" => 12345 }
 */
export async function storePathSizes(
  paths: readonly StorePath[],
  store: NixStore,
): Promise<Map<StorePath, number>> {
  const sizes = new Map<StorePath, number>();
  if (paths.length === 0) return sizes;
  const out = await runNix("nix-store", ["--query", "--size", ...paths, ...storeArgs(store)], {
    action: `querying the size of ${paths.length} store paths`,
  });
  const lines = out.split("\n").filter((line) => line.trim() !== "");
  for (const [index, path] of paths.entries()) {
    sizes.set(path, Number.parseInt(lines[index] ?? "0", 10) || 0);
  }
  return sizes;
}

/**
 * The store paths no GC root reaches (`nix-store --gc --print-dead`): what a collection may delete.
 * Deletes nothing.
 */
export async function deadStorePaths(store: NixStore): Promise<Set<StorePath>> {
  const out = await runNix("nix-store", ["--gc", "--print-dead", ...storeArgs(store)], {
    action: "listing unreachable store paths",
  });
  return new Set(out.split("\n").filter(isStorePath));
}

/**
 * Every path that refers to `paths`, directly or not, themselves included (`--referrers-closure`):
 * e.g. the `.drv` that built a profile refers to its inputs, and Nix will not delete an input while
 * such a referrer stays.
 */
export async function referrersClosure(paths: readonly StorePath[], store: NixStore): Promise<StorePath[]> {
  if (paths.length === 0) return [];
  const out = await runNix("nix-store", ["--query", "--referrers-closure", ...paths, ...storeArgs(store)], {
    action: `querying what refers to ${paths.length} store paths`,
  });
  return out.split("\n").filter(isStorePath);
}

/**
 * Deletes exactly `paths` from the store (`nix-store --delete`). Nix refuses, and nothing is
 * deleted, when one of them is still reachable from a GC root: this never removes a path in use.
 *
 * @throws {ImagelessError} when Nix refuses (a path is alive) or fails
 */
export async function deleteStorePaths(paths: readonly StorePath[], store: NixStore): Promise<void> {
  if (paths.length === 0) return;
  await runNix("nix-store", ["--delete", ...paths, ...storeArgs(store)], {
    action: `deleting ${paths.length} store paths`,
  });
}
