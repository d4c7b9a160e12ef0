import { ImagelessError } from "../../errors/imageless-error.js";
import { runGit } from "../../git/run-git.js";

/**
 * Removes environment branch `name` from the owner's bare floxmeta `repo`, only if its tip is still
 * `expectedTip` (compare-and-swap, like a switch), so a push that landed after the caller looked is
 * never thrown away unseen. Pushes cannot delete branches (the pre-receive hook refuses), so this is
 * the only way an environment leaves git.
 *
 * @throws {ImagelessError} `failed-precondition` when the branch moved meanwhile, `not-found` when
 *   another request deleted it first.
 */
export async function deleteBranch(repo: string, name: string, expectedTip: string): Promise<void> {
  try {
    await runGit(["--git-dir", repo, "update-ref", "-d", `refs/heads/${name}`, expectedTip]);
  } catch (error) {
    const tip = (
      await runGit(["--git-dir", repo, "for-each-ref", "--format=%(objectname)", `refs/heads/${name}`])
    ).stdout
      .toString("utf8")
      .trim();
    if (tip === "") {
      throw new ImagelessError("not-found", `environment branch "${name}" was deleted meanwhile`, {
        cause: error,
      });
    }
    if (tip !== expectedTip) {
      throw new ImagelessError(
        "failed-precondition",
        `environment branch "${name}" changed while it was being deleted: look at its new generation and delete again`,
        { cause: error },
      );
    }
    throw error;
  }
}
