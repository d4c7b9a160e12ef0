import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { isStorePath } from "../nix/store-path.js";

/**
 * Reads `nix-support/propagated-build-inputs` of `roots` and, recursively, of every store path they
 * name, from the node store. The result maps each path read to the store paths its file lists (a
 * path without the file is absent). The paths are in the roots' closures, so realising the roots
 * made them valid. Used for dev mode (see `propagatedLinks`).
 *
 * @example
 * await readPropagatedBuildInputs(["/nix/store/…-lib-dev"], "/"); // Map { "/nix/store/…-lib-dev" => ["/nix/store/…-zlib-dev"] }
 */
export async function readPropagatedBuildInputs(
  roots: readonly string[],
  storeRoot: string,
): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  const seen = new Set<string>();
  let pending = [...roots];
  while (pending.length > 0) {
    const next: string[] = [];
    for (const path of pending) {
      if (seen.has(path)) continue;
      seen.add(path);
      const file = join(
        storeRoot === "/" ? path : join(storeRoot, path),
        "nix-support",
        "propagated-build-inputs",
      );
      const text = await readFile(file, "utf8").catch(() => undefined);
      if (text === undefined) continue;
      const listed = text.split(/\s+/).filter((word) => isStorePath(word));
      found.set(path, listed);
      next.push(...listed);
    }
    pending = next;
  }
  return found;
}
