import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isErrorKind } from "../errors/imageless-error.js";
import { writeCommit } from "./commit-writer.js";
import { deleteRef, moveRef, RefMovedError, readRef } from "./refs.js";
import { runGit } from "./run-git.js";

// A real bare repository in a temp directory, inspected with git itself.
describe("commit-writer and refs", () => {
  let dir: string;
  let repo: string;
  const git = async (...args: string[]) =>
    (await runGit(["--git-dir", repo, ...args])).stdout.toString("utf8").trim();
  const author = { name: "Flox User", email: "floxuser@example.invalid" };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "commit-writer-"));
    repo = join(dir, "repo.git");
    await runGit(["init", "--quiet", "--bare", repo]);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("writes a root commit, then one laying files over its parent's tree, with author, committer and date", async () => {
    const root = await writeCommit(repo, {
      parents: [],
      files: { "metadata.json": "{}\n", "1/env/manifest.toml": "[install]\n" },
      message: "Create generation 1",
      author,
      date: new Date("2026-01-02T03:04:05Z"),
    });
    const child = await writeCommit(repo, {
      parents: [root],
      files: { "metadata.json": '{"v":2}\n', "2/env/manifest.toml": "" },
      message: "Create generation 2\n\nedited manifest",
      author: { name: "alice", email: "alice@example.invalid" },
      committer: { name: "imageless hub", email: "hub@example.invalid" },
      date: new Date("2026-01-02T03:04:06Z"),
    });
    assert.equal(
      await git("ls-tree", "-r", "--format=%(path)", child),
      ["1/env/manifest.toml", "2/env/manifest.toml", "metadata.json"].join("\n"),
    );
    assert.equal(await git("cat-file", "blob", `${child}:metadata.json`), '{"v":2}');
    assert.equal(
      await git("log", "--format=%P|%an <%ae>|%cn <%ce>|%at|%B", child),
      [
        `${root}|alice <alice@example.invalid>|imageless hub <hub@example.invalid>|1767323046|Create generation 2`,
        "",
        "edited manifest",
        "",
        "|Flox User <floxuser@example.invalid>|Flox User <floxuser@example.invalid>|1767323045|Create generation 1",
      ].join("\n"),
    );
  });

  it("refuses a path git cannot store, in one line naming it", async () => {
    await assert.rejects(
      writeCommit(repo, { parents: [], files: { "../x": "" }, message: "m", author }),
      (e) =>
        isErrorKind(e, "invalid-input") &&
        e.message ===
          'git file path "../x": not accepted; a relative path of non-empty parts other than . and ..',
    );
  });

  it("moves a ref only while it still points at the expected commit: a concurrent move wins, the ref stays", async () => {
    const base = await writeCommit(repo, { parents: [], files: { a: "1" }, message: "base", author });
    const mine = await writeCommit(repo, { parents: [base], files: { a: "mine" }, message: "mine", author });
    const theirs = await writeCommit(repo, {
      parents: [base],
      files: { a: "theirs" },
      message: "theirs",
      author,
    });
    await moveRef(repo, "refs/heads/web", base, "absent");
    // Another writer moves the branch after this one read `base`.
    await moveRef(repo, "refs/heads/web", theirs, base);
    const error = await moveRef(repo, "refs/heads/web", mine, base).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof RefMovedError);
    assert.equal(error.kind, "failed-precondition");
    assert.equal(error.current, theirs);
    assert.equal(
      error.message,
      `git ref refs/heads/web of ${repo} moved meanwhile: expected ${base}, found ${theirs}`,
    );
    assert.equal(await readRef(repo, "refs/heads/web"), theirs);
  });

  it("creates only when absent, and deletes only the expected tip", async () => {
    const one = await writeCommit(repo, { parents: [], files: { a: "1" }, message: "one", author });
    await moveRef(repo, "refs/heads/api", one, "absent");
    await assert.rejects(
      moveRef(repo, "refs/heads/api", one, "absent"),
      (e) => e instanceof RefMovedError && e.current === one,
    );
    const two = await writeCommit(repo, { parents: [one], files: { a: "2" }, message: "two", author });
    await moveRef(repo, "refs/heads/api", two, one);
    await assert.rejects(
      deleteRef(repo, "refs/heads/api", one),
      (e) => e instanceof RefMovedError && e.current === two,
    );
    assert.equal(await readRef(repo, "refs/heads/api"), two);
    await deleteRef(repo, "refs/heads/api", two);
    assert.equal(await readRef(repo, "refs/heads/api"), undefined);
    await assert.rejects(
      deleteRef(repo, "refs/heads/api", two),
      (e) => e instanceof RefMovedError && e.current === undefined && /found no ref$/.test(e.message),
    );
  });
});
