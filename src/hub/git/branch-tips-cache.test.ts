import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { cachedBranchLister, mayRemember, QUIET_MS } from "./branch-tips-cache.js";
import { repoPath } from "./git-repos.js";

const run = promisify(execFile);
const git = async (repo: string, ...args: string[]) =>
  (await run("git", ["--git-dir", repo, ...args], { env: { ...process.env, ...IDENTITY } })).stdout.trim();
const IDENTITY = {
  GIT_AUTHOR_NAME: "t",
  GIT_AUTHOR_EMAIL: "t@example.invalid",
  GIT_COMMITTER_NAME: "t",
  GIT_COMMITTER_EMAIL: "t@example.invalid",
};
/** Waits until the ref files count as unchanged for long enough to be remembered. */
const settle = () => new Promise((resolve) => setTimeout(resolve, QUIET_MS + 50));

describe("mayRemember()", () => {
  const stamp = { key: "k", changedAtMs: 10_000 };
  it("remembers only a listing of ref files that were quiet for QUIET_MS, with no nested names", () => {
    assert.equal(mayRemember(stamp, 10_000 + QUIET_MS + 1, new Map([["web", "a"]])), true);
    assert.equal(mayRemember(stamp, 10_000 + QUIET_MS, new Map([["web", "a"]])), false);
    assert.equal(mayRemember(stamp, 20_000, new Map([["team/web", "a"]])), false);
    assert.equal(mayRemember(undefined, 20_000, new Map()), false);
  });
});

describe("cachedBranchLister()", () => {
  let dataDir = "";
  let repo = "";
  let commits: string[] = [];
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "imageless-branch-tips-"));
    repo = repoPath(dataDir, "acme");
    await run("git", ["init", "--quiet", "--bare", repo]);
    const tree = execFileSync("git", ["--git-dir", repo, "mktree"], { input: "", encoding: "utf8" }).trim();
    const first = await git(repo, "commit-tree", tree, "-m", "1");
    const second = await git(repo, "commit-tree", tree, "-p", first, "-m", "2");
    commits = [first, second];
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  it("shows every change git makes on the next listing: update, pack-refs, delete", async () => {
    const [first = "", second = ""] = commits;
    const list = cachedBranchLister(dataDir, Date.now);
    assert.deepEqual(await list("acme"), new Map());
    await git(repo, "update-ref", "refs/heads/web", first);
    assert.deepEqual(await list("acme"), new Map([["web", first]]));
    await settle();
    await list("acme");
    await git(repo, "update-ref", "refs/heads/web", second);
    assert.deepEqual(await list("acme"), new Map([["web", second]]));
    await settle();
    await list("acme");
    await git(repo, "pack-refs", "--all");
    await git(repo, "update-ref", "refs/heads/api", first);
    assert.deepEqual(
      await list("acme"),
      new Map([
        ["web", second],
        ["api", first],
      ]),
    );
    await settle();
    await list("acme");
    await git(repo, "update-ref", "-d", "refs/heads/web");
    assert.deepEqual(await list("acme"), new Map([["api", first]]));
    assert.deepEqual(await list("nobody"), new Map());
  });

  it("answers from memory while the stamp holds (a ref rewritten in place, which git never does, goes unseen)", async () => {
    const [first = "", second = ""] = commits;
    const list = cachedBranchLister(dataDir, Date.now);
    await git(repo, "update-ref", "refs/heads/api", first);
    await settle();
    assert.deepEqual(await list("acme"), new Map([["api", first]]));
    await writeFile(join(repo, "refs", "heads", "api"), `${second}\n`); // no rename: the directory is untouched
    assert.deepEqual(await list("acme"), new Map([["api", first]]));
  });
});
