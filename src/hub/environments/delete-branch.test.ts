import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isErrorKind } from "../../errors/imageless-error.js";
import { writeCommit } from "../../git/commit-writer.js";
import { moveRef } from "../../git/refs.js";
import { runGit } from "../../git/run-git.js";
import { deleteBranch } from "./delete-branch.js";

// A real bare repository in a temp directory, commits made by src/git.
describe("deleteBranch()", () => {
  let dir: string;
  let repo: string;
  const git = async (...args: string[]) =>
    (await runGit(["--git-dir", repo, ...args])).stdout.toString("utf8").trim();
  const commit = async (branch: string, parent?: string) => {
    const id = await writeCommit(repo, {
      parents: parent === undefined ? [] : [parent],
      files: {},
      message: branch,
      author: { name: "t", email: "t@example.invalid" },
    });
    await moveRef(repo, `refs/heads/${branch}`, id, parent ?? "absent");
    return id;
  };
  const branches = async () =>
    (await git("for-each-ref", "--format=%(refname:short)")).split("\n").filter(Boolean);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "delete-branch-"));
    repo = join(dir, "floxmeta");
    await runGit(["init", "--quiet", "--bare", repo]);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("removes the branch whose tip is the expected one, and only that branch", async () => {
    const tip = await commit("web");
    await commit("tools");
    await deleteBranch(repo, "web", tip);
    assert.deepEqual(await branches(), ["tools"]);
  });

  it("refuses, changing nothing, when the branch moved since the caller looked (a push landed)", async () => {
    const seen = await commit("api");
    const moved = await commit("api", seen);
    await assert.rejects(
      deleteBranch(repo, "api", seen),
      (e) => isErrorKind(e, "failed-precondition") && /changed while it was being deleted/.test(e.message),
    );
    assert.equal(await git("rev-parse", "refs/heads/api"), moved);
  });

  it("says not-found when another request deleted it first", async () => {
    const tip = await commit("twice");
    await deleteBranch(repo, "twice", tip);
    await assert.rejects(deleteBranch(repo, "twice", tip), (e) => isErrorKind(e, "not-found"));
  });
});
