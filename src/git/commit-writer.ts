/**
 * Writes git history: a tree from files laid over a parent's tree and a commit with its parents,
 * author and date. The only writer of commits in `src/` (hub switch, CLI push, the test fixture);
 * refs move through `refs.ts`.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImagelessError } from "../errors/imageless-error.js";
import { runGit } from "./run-git.js";

/** A name and an email, as git records them. */
export interface GitPerson {
  readonly name: string;
  readonly email: string;
}

/** One commit to write. */
export interface NewCommit {
  /** Parent commits, first parent first; none for a root commit. The files are laid over the first one's tree. */
  readonly parents: readonly string[];
  /** Paths (`2/env/manifest.lock`) added or replaced, with their content; every other file is kept. */
  readonly files: Readonly<Record<string, string | Buffer>>;
  readonly message: string;
  readonly author: GitPerson;
  /** Default: the author. */
  readonly committer?: GitPerson;
  /** Author and commit date; default now. */
  readonly date?: Date;
}

/**
 * Writes the objects of `commit` into the bare repository `repo` (blobs, trees, the commit) and returns
 * the commit id; no ref moves (see `moveRef` in refs.ts). Five git processes whatever the number of files.
 *
 * @throws {ImagelessError} `invalid-input` for a path git cannot store (absolute, `..`, empty part).
 * @example
 * const id = await writeCommit(repo, { parents: [tip], files: { "metadata.json": text }, message, author });
 */
export async function writeCommit(repo: string, commit: NewCommit): Promise<string> {
  const paths = Object.keys(commit.files);
  for (const path of paths) checkPath(path);
  const dir = await mkdtemp(join(tmpdir(), "imageless-commit-"));
  try {
    const committer = commit.committer ?? commit.author;
    const date = commit.date === undefined ? undefined : `@${Math.floor(commit.date.getTime() / 1000)} +0000`;
    const env = {
      GIT_INDEX_FILE: join(dir, "index"),
      GIT_AUTHOR_NAME: commit.author.name,
      GIT_AUTHOR_EMAIL: commit.author.email,
      GIT_COMMITTER_NAME: committer.name,
      GIT_COMMITTER_EMAIL: committer.email,
      ...(date === undefined ? {} : { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date }),
    };
    const git = async (args: readonly string[], input?: string) =>
      (await runGit(["--git-dir", repo, ...args], { env, ...(input === undefined ? {} : { input }) })).stdout
        .toString("utf8")
        .trim();
    const first = commit.parents[0];
    await git(first === undefined ? ["read-tree", "--empty"] : ["read-tree", `${first}^{tree}`]);
    // The contents go through files so that one hash-object writes every blob.
    const files = await Promise.all(
      paths.map(async (path, i) => {
        const file = join(dir, `blob-${i}`);
        await writeFile(file, commit.files[path] ?? "");
        return file;
      }),
    );
    const blobs =
      files.length === 0
        ? []
        : (await git(["hash-object", "-w", "--no-filters", "--stdin-paths"], `${files.join("\n")}\n`)).split(
            "\n",
          );
    const entries = paths.map((path, i) => `100644 ${blobs[i]}\t${path}\n`).join("");
    if (entries !== "") await git(["update-index", "--add", "--index-info"], entries);
    const tree = await git(["write-tree"]);
    return await git([
      "commit-tree",
      tree,
      ...commit.parents.flatMap((p) => ["-p", p]),
      "-m",
      commit.message,
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A path git can store as a file of a tree. */
function checkPath(path: string): void {
  const parts = path.split("/");
  if (path.includes("\n") || path.includes("\0") || parts.some((p) => p === "" || p === "." || p === "..")) {
    throw new ImagelessError(
      "invalid-input",
      `git file path ${JSON.stringify(path)}: not accepted; a relative path of non-empty parts other than . and ..`,
    );
  }
}
