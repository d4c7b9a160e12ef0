import { ImagelessError } from "../../errors/imageless-error.js";
import { deleteRef, RefMovedError } from "../../git/refs.js";

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
    await deleteRef(repo, `refs/heads/${name}`, expectedTip);
  } catch (error) {
    if (!(error instanceof RefMovedError)) throw error;
    if (error.current === undefined) {
      throw new ImagelessError("not-found", `environment branch "${name}" was deleted meanwhile`, {
        cause: error,
      });
    }
    throw new ImagelessError(
      "failed-precondition",
      `environment branch "${name}" changed while it was being deleted: look at its new generation and delete again`,
      { cause: error },
    );
  }
}
