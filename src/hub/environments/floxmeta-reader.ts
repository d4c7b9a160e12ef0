import { stat } from "node:fs/promises";
import { join } from "node:path";
import { ImagelessError } from "../../errors/imageless-error.js";
import { runGit } from "../../floxhub/git.js";
import { readBranchFiles } from "../git/git-ref-files.js";

/** The bare repository of `owner` under the hub's data directory. */
export function floxmetaRepo(dataDir: string, owner: string): string {
  return join(dataDir, "git", owner, "floxmeta");
}

/**
 * The commit at the tip of branch `name` in `repo`, or undefined when the repository or the branch
 * does not exist.
 */
export async function readBranchTip(repo: string, name: string): Promise<string | undefined> {
  // Every API read of an environment asks: from the ref files when readable, no git process.
  const fromFiles = await readBranchFiles(repo);
  if (fromFiles !== undefined) return fromFiles.get(name);
  const exists = await stat(join(repo, "HEAD")).then(
    () => true,
    () => false,
  );
  if (!exists) return undefined;
  const { stdout } = await runGit([
    "--git-dir",
    repo,
    "for-each-ref",
    "--format=%(objectname)",
    `refs/heads/${name}`,
  ]);
  const commit = stdout.toString("utf8").trim();
  return commit === "" ? undefined : commit;
}

/**
 * The text of `paths` at `commit`, in one `git cat-file --batch`; a path the commit does not have
 * maps to undefined.
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
  const input = paths.map((p) => `${commit}:${p}\n`).join("");
  const { stdout } = await runGit(["--git-dir", repo, "cat-file", "--batch"], { input });
  return parseBatch(stdout, paths.length);
}

/** Splits `cat-file --batch` output into one text (or undefined for `missing`) per request (pure). */
export function parseBatch(out: Buffer, count: number): (string | undefined)[] {
  const texts: (string | undefined)[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    const eol = out.indexOf(0x0a, at);
    if (eol < 0) throw new ImagelessError("internal", "git cat-file --batch: output ended early");
    const header = out.subarray(at, eol).toString("utf8");
    at = eol + 1;
    const match = /^[0-9a-f]+ (\w+) (\d+)$/.exec(header);
    if (match === null) {
      // "<request> missing" (or "ambiguous"): the commit has no such path.
      texts.push(undefined);
      continue;
    }
    const size = Number(match[2]);
    texts.push(match[1] === "blob" ? out.subarray(at, at + size).toString("utf8") : undefined);
    at += size + 1; // the content is followed by a newline
  }
  return texts;
}
