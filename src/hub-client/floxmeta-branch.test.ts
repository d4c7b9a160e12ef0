import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ImagelessError } from "../errors/imageless-error.js";
import { runGit } from "../git/run-git.js";
import {
  commitFiles,
  fetchBranch,
  pushCommit,
  pushFailureLine,
  readCommitFiles,
  withScratchRepo,
} from "./floxmeta-branch.js";

describe("pushFailureLine()", () => {
  const cases: [string, string | undefined][] = [
    [
      "remote: error: metadata.json: generation 3 has no 3/env/manifest.toml\nTo http://h/git/a/floxmeta\n ! [remote rejected] x -> web (pre-receive hook declined)\nerror: failed to push some refs",
      "the hub refused it: metadata.json: generation 3 has no 3/env/manifest.toml",
    ],
    [
      " ! [rejected]        abc -> web (fetch first)\nerror: failed to push some refs to 'file:///x'\nhint: Updates were rejected",
      "someone else changed the environment meanwhile; run the command again",
    ],
    ["fatal: unable to access 'http://h/': Failed to connect", undefined],
  ];
  for (const [stderr, expected] of cases) {
    it(`reads ${JSON.stringify(stderr.split("\n")[0])}`, () =>
      assert.equal(pushFailureLine(stderr)?.text, expected));
  }
});

describe("fetchBranch(), commitFiles(), pushCommit() against a file:// floxmeta", () => {
  let dir: string;
  let remote: { url: string };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "imageless-branch-"));
    remote = { url: `file://${join(dir, "acme", "floxmeta")}` };
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("finds no branch in a missing repository, then creates, reads and extends one", async () => {
    await withScratchRepo(async (repo) => assert.equal(await fetchBranch(repo, remote, "web"), undefined));
    await runGit(["init", "--quiet", "--bare", join(dir, "acme", "floxmeta")]);
    await withScratchRepo(async (repo) => {
      assert.equal(await fetchBranch(repo, remote, "web"), undefined);
      const root = await commitFiles(repo, { message: "init", files: { "metadata.json": "{}" } });
      const next = await commitFiles(repo, {
        parent: root,
        message: "gen 1",
        files: { "1/env/manifest.toml": "v" },
      });
      await pushCommit(repo, remote, next, "web");
    });
    let stale = "";
    await withScratchRepo(async (repo) => {
      const tip = await fetchBranch(repo, remote, "web");
      assert.equal(tip?.metadataText, "{}");
      assert.deepEqual(
        await readCommitFiles(repo, tip?.commit ?? "", ["1/env/manifest.toml", "2/env/manifest.toml"]),
        ["v", undefined],
      );
      stale = tip?.commit ?? "";
      const next = await commitFiles(repo, {
        parent: stale,
        message: "gen 2",
        files: { "metadata.json": "[]" },
      });
      await pushCommit(repo, remote, next, "web");
    });
    // A push built on the old tip loses the race and is told to run again.
    await withScratchRepo(async (repo) => {
      await fetchBranch(repo, remote, "web");
      await runGit(["--git-dir", repo, "fetch", "--quiet", remote.url, stale]);
      const late = await commitFiles(repo, { parent: stale, message: "late", files: { x: "y" } });
      await assert.rejects(
        pushCommit(repo, remote, late, "web"),
        (e: unknown) =>
          e instanceof ImagelessError &&
          e.kind === "failed-precondition" &&
          /someone else changed/.test(e.message),
      );
    });
  });
});
