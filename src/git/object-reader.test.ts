import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isErrorKind } from "../errors/imageless-error.js";
import { writeCommit } from "./commit-writer.js";
import { ObjectReader, withObjectReader } from "./object-reader.js";
import { moveRef } from "./refs.js";
import { runGit } from "./run-git.js";

// A real bare repository in a temp directory; commits written by commit-writer.ts.
describe("ObjectReader", () => {
  let dir: string;
  let repo: string;
  let first: string;
  const author = { name: "t", email: "t@example.invalid" };
  const binary = Buffer.from([0x00, 0x0a, 0xff, 0xfe, 0x0a]);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "object-reader-"));
    repo = join(dir, "repo.git");
    await runGit(["init", "--quiet", "--bare", repo]);
    first = await writeCommit(repo, {
      parents: [],
      files: {
        "metadata.json": '{"version": 2}\n',
        "1/env/manifest.lock": "line1\nline2\n",
        "1/env/empty": "",
        "1/env/binary": binary,
      },
      message: "first",
      author,
    });
    await moveRef(repo, "refs/heads/web", first, "absent");
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("reads several files of a commit in one go: text, empty, binary; undefined for a missing path", async () => {
    const files = await withObjectReader(repo, (reader) =>
      reader.readFiles(first, [
        "metadata.json",
        "1/env/manifest.lock",
        "1/env/empty",
        "1/env/binary",
        "2/env/manifest.lock",
      ]),
    );
    assert.deepEqual(files, [
      Buffer.from('{"version": 2}\n'),
      Buffer.from("line1\nline2\n"),
      Buffer.alloc(0),
      binary,
      undefined,
    ]);
  });

  it("throws, naming repository, revision and path, for a commit it does not have or a directory", async () => {
    const reader = new ObjectReader(repo);
    try {
      const absent = "0123456789012345678901234567890123456789";
      await assert.rejects(
        reader.readFile(absent, "metadata.json"),
        (e) =>
          isErrorKind(e, "not-found") &&
          e.message === `git repository ${repo} has no commit ${absent} (reading metadata.json)`,
      );
      await assert.rejects(
        reader.readFile(first, "1/env"),
        (e) =>
          isErrorKind(e, "internal") &&
          e.message === `git repository ${repo}: ${first}:1/env is a tree, not a file`,
      );
      // The reader still answers after an error of one request.
      assert.deepEqual(await reader.readTextFiles(first, ["1/env/empty"]), [""]);
    } finally {
      reader.close();
    }
  });

  it("lists directories and resolves refs afresh, also for objects and refs written after git started", async () => {
    const reader = new ObjectReader(repo);
    try {
      assert.equal(await reader.resolveCommit("refs/heads/web"), first);
      assert.deepEqual(
        (await reader.listTree(first))?.map((e) => `${e.type} ${e.name}`),
        ["tree 1", "blob metadata.json"],
      );
      assert.equal(await reader.listTree(first, "9"), undefined);
      // Another process writes a commit and moves the branch while this reader's git runs.
      const second = await writeCommit(repo, {
        parents: [first],
        files: { "2/env/manifest.lock": "two" },
        message: "second",
        author,
      });
      await moveRef(repo, "refs/heads/web", second, first);
      assert.equal(await reader.resolveCommit("refs/heads/web"), second);
      assert.deepEqual(
        await reader.readTextFiles("refs/heads/web", ["2/env/manifest.lock", "metadata.json"]),
        ["two", '{"version": 2}\n'],
      );
      assert.equal(await reader.resolveCommit("refs/heads/none"), undefined);
    } finally {
      reader.close();
    }
  });

  it("refuses an object name with a newline (it would split into two requests)", async () => {
    await assert.rejects(
      withObjectReader(repo, (reader) => reader.readFile(first, "a\nb")),
      (e) => isErrorKind(e, "invalid-input") && /contains a newline/.test(e.message),
    );
  });

  it("fails every request, naming the repository, when the repository does not exist", async () => {
    const gone = join(dir, "gone.git");
    await assert.rejects(
      withObjectReader(gone, (reader) => reader.readFile(first, "metadata.json")),
      (e) => isErrorKind(e, "internal") && e.message.startsWith(`git cat-file in ${gone} ended (128): `),
    );
  });
});
