/**
 * Writes git history: a tree from files laid over a parent's tree, a commit with its parents, author
 * and date, and refs moved by compare-and-swap (`git update-ref <ref> <new> <old>`), so a writer
 * never loses a change that landed after it looked. The only writer of commits and refs in `src/`
 * (hub switch and delete, CLI push, the node's cache, the test fixture).
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
 * the commit id; no ref moves (see {@link moveRef}). Five git processes whatever the number of files.
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

/** What a ref must point at for a move to go ahead: a commit id, `absent` (create only), or `any`. */
export type ExpectedTip = string | "absent" | "any";

/**
 * A compare-and-swap on a ref failed: it no longer points where the writer expected (or another
 * writer holds its lock right now). The ref is unchanged; `current` is where it points (undefined:
 * nowhere). Callers redo their change on `current` or report a conflict.
 */
export class RefMovedError extends ImagelessError {
  constructor(
    message: string,
    readonly current: string | undefined,
    options?: ErrorOptions,
  ) {
    super("failed-precondition", message, options);
  }
}

/**
 * Points `ref` of `repo` at `commit`, only if it still points at `expected`.
 *
 * @throws {RefMovedError} when it points elsewhere (or is being moved by another writer).
 */
export async function moveRef(
  repo: string,
  ref: string,
  commit: string,
  expected: ExpectedTip,
): Promise<void> {
  const old = expected === "any" ? [] : [expected === "absent" ? "" : expected];
  await casRef(repo, ref, expected, ["update-ref", ref, commit, ...old]);
}

/**
 * Deletes `ref` of `repo`, only if it still points at `expected`.
 *
 * @throws {RefMovedError} when it points elsewhere or is gone (`current` undefined).
 */
export async function deleteRef(repo: string, ref: string, expected: string | "any"): Promise<void> {
  await casRef(repo, ref, expected, ["update-ref", "-d", ref, ...(expected === "any" ? [] : [expected])]);
}

/** Where `ref` of `repo` points, undefined when it does not exist. */
export async function readRef(repo: string, ref: string): Promise<string | undefined> {
  const { stdout } = await runGit(["--git-dir", repo, "for-each-ref", "--format=%(objectname)", ref]);
  const tip = stdout.toString("utf8").trim();
  return tip === "" ? undefined : tip;
}

async function casRef(
  repo: string,
  ref: string,
  expected: ExpectedTip,
  args: readonly string[],
): Promise<void> {
  try {
    await runGit(["--git-dir", repo, ...args]);
  } catch (error) {
    if (!(error instanceof ImagelessError) || expected === "any") throw error;
    const current = await readRef(repo, ref);
    const wanted = expected === "absent" ? undefined : expected;
    if (current !== wanted) {
      throw new RefMovedError(
        `git ref ${ref} of ${repo} moved meanwhile: expected ${wanted ?? "no ref"}, found ${current ?? "no ref"}`,
        current,
        { cause: error },
      );
    }
    // Still where expected, but locked: another writer is between taking the lock and moving it.
    if (/cannot lock ref|unable to create .*\.lock/i.test(`${error.message} ${causeText(error)}`)) {
      throw new RefMovedError(`git ref ${ref} of ${repo} is being moved by another writer`, current, {
        cause: error,
      });
    }
    throw error;
  }
}

function causeText(error: Error): string {
  return error.cause instanceof Error ? error.cause.message : "";
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
