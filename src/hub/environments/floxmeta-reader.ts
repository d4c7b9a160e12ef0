import { stat } from "node:fs/promises";
import { join } from "node:path";
import { type ObjectReaderPool, useObjectReader } from "../../git/object-reader-pool.js";

/** The bare repository of `owner` under the hub's data directory. */
export function floxmetaRepo(dataDir: string, owner: string): string {
  return join(dataDir, "git", owner, "floxmeta");
}

/**
 * The commit at the tip of branch `name` in `repo`, or undefined when the repository or the branch
 * does not exist. With the hub's `pool`, read through the repository's running git (no new process).
 */
export async function readBranchTip(
  repo: string,
  name: string,
  pool?: ObjectReaderPool,
): Promise<string | undefined> {
  const exists = await stat(join(repo, "HEAD")).then(
    () => true,
    () => false,
  );
  if (!exists) return undefined;
  return await useObjectReader(pool, repo, (objects) => objects.resolveCommit(`refs/heads/${name}`));
}

/**
 * The text of `paths` at `commit`; a path the commit does not have maps to undefined (the rule of
 * `src/git/object-reader.ts`).
 *
 * @example
 * const [meta, lock] = await readFiles(repo, commit, ["metadata.json", "2/env/manifest.lock"]);
 */
export async function readFiles(
  repo: string,
  commit: string,
  paths: readonly string[],
  pool?: ObjectReaderPool,
): Promise<(string | undefined)[]> {
  if (paths.length === 0) return [];
  return await useObjectReader(pool, repo, (objects) => objects.readTextFiles(commit, paths));
}
