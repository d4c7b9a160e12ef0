import { stat } from "node:fs/promises";
import { join } from "node:path";
import { withObjectReader } from "../../git/object-reader.js";
import { readRef } from "../../git/refs.js";

/** The bare repository of `owner` under the hub's data directory. */
export function floxmetaRepo(dataDir: string, owner: string): string {
  return join(dataDir, "git", owner, "floxmeta");
}

/**
 * The commit at the tip of branch `name` in `repo`, or undefined when the repository or the branch
 * does not exist.
 */
export async function readBranchTip(repo: string, name: string): Promise<string | undefined> {
  const exists = await stat(join(repo, "HEAD")).then(
    () => true,
    () => false,
  );
  return exists ? await readRef(repo, `refs/heads/${name}`) : undefined;
}

/**
 * The text of `paths` at `commit`, read by one git process; a path the commit does not have maps
 * to undefined (the rule of `src/git/object-reader.ts`).
 *
 * @example
 * const [meta, lock] = await readFiles(repo, commit, ["metadata.json", "2/env/manifest.lock"]);
 */
export async function readFiles(
  repo: string,
  commit: string,
  paths: readonly string[],
): Promise<(string | undefined)[]> {
  if (paths.length === 0) return [];
  return await withObjectReader(repo, (objects) => objects.readTextFiles(commit, paths));
}
