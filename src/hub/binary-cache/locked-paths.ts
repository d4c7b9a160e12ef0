/**
 * The store paths an environment's locks list, read from its floxmeta branch: every generation's
 * `N/env/manifest.lock` at the branch tip (a node may start any generation, not only the live one).
 */
import { parseLockfile } from "../../environment/lockfile.js";
import { withObjectReader } from "../../git/object-reader.js";
import type { Logger } from "../../log/logger.js";
import { hashPart } from "./narinfo.js";

/**
 * Hash parts of every store path listed in any generation's lock on `tip` of the bare repository
 * `repo`. A lock that does not parse contributes nothing (and is logged): it cannot be started either.
 */
export async function readLockedPaths(
  repo: string,
  tip: string,
  opts: { readonly environment: string; readonly log: Logger },
): Promise<Set<string>> {
  const hashes = new Set<string>();
  // One git process for the listing and every lock of the branch.
  const locks = await withObjectReader(repo, async (objects) => {
    const generations = (await objects.listTree(tip)) ?? [];
    const paths = generations
      .filter((entry) => entry.type === "tree" && /^[1-9][0-9]*$/.test(entry.name))
      .map((entry) => `${entry.name}/env/manifest.lock`);
    const texts = await objects.readTextFiles(tip, paths);
    return paths.map((path, i) => ({ path, text: texts[i] }));
  });
  for (const { path, text } of locks) {
    if (text === undefined) continue; // a generation without a lock lists nothing
    const source = `${path} of '${opts.environment}'`;
    try {
      for (const pkg of parseLockfile(text, source).packages) {
        const storePaths = pkg.kind === "store-path" ? [pkg.storePath] : Object.values(pkg.outputs);
        for (const storePath of storePaths) hashes.add(hashPart(storePath));
      }
    } catch (error) {
      opts.log.warn("hub.cache.lock_unreadable", {
        environment: opts.environment,
        lock: source,
        error: String(error),
      });
    }
  }
  return hashes;
}
