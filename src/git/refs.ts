/**
 * Reads and moves git refs. Every move is a compare-and-swap (`git update-ref <ref> <new> <old>`), so
 * a writer never loses a change that landed after it looked. The only mover of refs in `src/` (hub
 * switch and delete, the node's cache, the test fixture).
 */
import { ImagelessError } from "../errors/imageless-error.js";
import { runGit } from "./run-git.js";

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
  const { stdout } = await runGit([
    "--git-dir",
    repo,
    "for-each-ref",
    "--format=%(objectname) %(refname)",
    ref,
  ]);
  // The pattern also matches refs below `ref/`: keep the exact one.
  const line = stdout
    .toString("utf8")
    .split("\n")
    .find((l) => l.endsWith(` ${ref}`));
  return line?.slice(0, line.indexOf(" "));
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
