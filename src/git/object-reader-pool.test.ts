import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { writeCommit } from "./commit-writer.js";
import { ObjectReaderPool } from "./object-reader-pool.js";
import { runGit } from "./run-git.js";

describe("ObjectReaderPool", () => {
  let dir: string;
  let repo: string;
  let commit: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "reader-pool-"));
    repo = join(dir, "repo.git");
    await runGit(["init", "--quiet", "--bare", repo]);
    const author = { name: "t", email: "t@example.invalid" };
    commit = await writeCommit(repo, { parents: [], files: { a: "1" }, message: "m", author });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("gives one running reader per repository, and a new one after closeAll or when broken", async () => {
    const pool = new ObjectReaderPool();
    try {
      const first = pool.reader(repo);
      assert.deepEqual(await first.readTextFiles(commit, ["a"]), ["1"]);
      assert.equal(pool.reader(repo), first);
      pool.closeAll();
      const second = pool.reader(repo);
      assert.notEqual(second, first);
      assert.deepEqual(await second.readTextFiles(commit, ["a"]), ["1"]);

      const gone = join(dir, "gone.git");
      const broken = pool.reader(gone);
      await assert.rejects(broken.readFile(commit, "a"), /git cat-file in .* ended/);
      assert.equal(broken.broken, true);
      assert.notEqual(pool.reader(gone), broken);
    } finally {
      pool.closeAll();
    }
  });
});
