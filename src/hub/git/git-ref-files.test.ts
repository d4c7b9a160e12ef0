import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { parsePackedBranches, readBranchFiles } from "./git-ref-files.js";

const run = promisify(execFile);
const A = "a".repeat(40);
const B = "b".repeat(40);

describe("parsePackedBranches()", () => {
  it("reads branches, skipping the header, peeled lines and other refs", () => {
    const text = `# pack-refs with: peeled fully-peeled sorted \n${A} refs/heads/web\n${B} refs/tags/v1\n^${A}\n${B} refs/heads/api\n`;
    assert.deepEqual(
      parsePackedBranches(text),
      new Map([
        ["web", A],
        ["api", B],
      ]),
    );
  });
});

describe("readBranchFiles()", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "imageless-ref-files-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function git(repo: string, ...args: string[]): Promise<string> {
    const { stdout } = await run("git", ["--git-dir", repo, ...args], {
      env: {
        ...process.env,
        GIT_CONFIG_GLOBAL: "/dev/null",
        GIT_AUTHOR_NAME: "t",
        GIT_AUTHOR_EMAIL: "t@t",
        GIT_COMMITTER_NAME: "t",
        GIT_COMMITTER_EMAIL: "t@t",
      },
    });
    return stdout;
  }

  it("gives what git for-each-ref gives, with loose refs, packed refs and a packed ref moved loose", async () => {
    const repo = join(dir, "repo.git");
    await run("git", ["init", "--quiet", "--bare", repo]);
    const tree = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"; // the empty tree
    await git(repo, "hash-object", "-w", "-t", "tree", "/dev/null");
    const commits: string[] = [];
    for (const message of ["one", "two", "three"]) {
      commits.push((await git(repo, "commit-tree", tree, "-m", message)).trim());
    }
    await git(repo, "update-ref", "refs/heads/web", commits[0] ?? "");
    await git(repo, "update-ref", "refs/heads/api", commits[1] ?? "");
    await git(repo, "pack-refs", "--all");
    await git(repo, "update-ref", "refs/heads/web", commits[2] ?? ""); // loose again, over the packed one
    await git(repo, "update-ref", "refs/heads/new", commits[1] ?? "");
    await git(repo, "update-ref", "refs/tags/v1", commits[0] ?? "");
    const fromGit = new Map(
      (await git(repo, "for-each-ref", "--format=%(refname:lstrip=2) %(objectname)", "refs/heads/"))
        .trim()
        .split("\n")
        .map((line) => line.split(" ") as [string, string]),
    );
    const fromFiles = await readBranchFiles(repo);
    assert.deepEqual(new Map([...(fromFiles ?? new Map())].sort()), new Map([...fromGit].sort()));
  });

  it("reads an empty repository as no branches", async () => {
    const repo = join(dir, "empty.git");
    await run("git", ["init", "--quiet", "--bare", repo]);
    assert.deepEqual(await readBranchFiles(repo), new Map());
  });
});
