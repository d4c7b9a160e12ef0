/**
 * The hub's git endpoint with real git clients: clone, ls-remote, fetch and push against
 * registerGitRoutes() served by fastify, with access from an in-memory HubAccess.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { registerGitRoutes } from "../../src/hub/git/git-service.js";
import { createLogger } from "../../src/log/logger.js";
import { floxmetaPath, writeFloxmeta } from "../harness/floxmeta-fixture.js";
import { type HubProcess, startHubProcess } from "../harness/hub.js";
import { InMemoryHubAccess, inMemoryServices, startTestHub, type TestHub } from "../harness/in-memory-hub.js";
import { repoRoot } from "../harness/repo-root.js";
import { makeTempDir, removeTree } from "../harness/temp.js";

interface GitRun {
  code: number;
  stdout: string;
  stderr: string;
}

const IDENTITY = {
  GIT_AUTHOR_NAME: "Test",
  GIT_AUTHOR_EMAIL: "test@example.invalid",
  GIT_COMMITTER_NAME: "Test",
  GIT_COMMITTER_EMAIL: "test@example.invalid",
};

/** Runs the real git with no user config and no prompts; never throws. */
function git(args: readonly string[], cwd?: string): Promise<GitRun> {
  return new Promise((resolve) => {
    execFile(
      "git",
      args,
      {
        cwd,
        env: {
          PATH: process.env["PATH"] ?? "/usr/bin:/bin",
          GIT_CONFIG_GLOBAL: "/dev/null",
          GIT_CONFIG_NOSYSTEM: "1",
          GIT_TERMINAL_PROMPT: "0",
          ...IDENTITY,
        },
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const manifest = 'version = 1\n[install]\nhello.pkg-path = "hello"\n';
const generation = { manifestToml: manifest, lock: { "lockfile-version": 1, manifest: {}, packages: [] } };

let work: string;
let hub: TestHub;
let access: InMemoryHubAccess;
let alice: string;
let bob: string;
let carol: string;
let dave: string;
const logLines: string[] = [];

/** `http://oauth:<token>@host/git/<owner>/floxmeta` (git sends it after the 401 challenge). */
function url(owner: string, token?: string): string {
  const base = new URL(hub.url);
  const auth = token === undefined ? "" : `oauth:${token}@`;
  return `http://${auth}${base.host}/git/${owner}/floxmeta`;
}

/** A local floxmeta repository for `owner` with the given environments (real Flox layout). */
async function localFloxmeta(label: string, owner: string, envs: string[], generations = 1): Promise<string> {
  const root = join(work, "local", label);
  await writeFloxmeta(
    root,
    owner,
    envs.map((name) => ({ name, generations: Array.from({ length: generations }, () => generation) })),
  );
  return floxmetaPath(root, owner);
}

/** A work tree of branch `name` of `repo`, to commit arbitrary (even broken) content. */
async function checkout(repo: string, name: string, label: string): Promise<string> {
  const dir = join(work, "checkouts", label);
  const cloned = await git(["clone", "--quiet", "--branch", name, repo, dir]);
  assert.equal(cloned.code, 0, cloned.stderr);
  return dir;
}

async function commitAll(dir: string, message: string): Promise<void> {
  assert.equal((await git(["add", "-A"], dir)).code, 0);
  const done = await git(["commit", "--quiet", "-m", message], dir);
  assert.equal(done.code, 0, done.stderr);
}

async function remoteTip(owner: string, name: string): Promise<string> {
  const out = await git(["--git-dir", join(work, "data", "git", owner, "floxmeta"), "rev-parse", name]);
  return out.stdout.trim();
}

before(async () => {
  work = await makeTempDir("hub-git");
  access = new InMemoryHubAccess();
  alice = access.addUser("alice");
  bob = access.addUser("bob");
  carol = access.addUser("carol");
  dave = access.addUser("dave");
  access.addMember("acme", "carol", "writer");
  access.addMember("acme", "dave", "reader");
  const services = inMemoryServices(join(work, "data"), access);
  const log = createLogger((line) => logLines.push(line));
  hub = await startTestHub((app) => registerGitRoutes(app, services, log));
});
after(async () => {
  await hub?.close();
  await removeTree(work);
});

describe("registerGitRoutes()", () => {
  it("creates the owner's repository on the first authorised push and records the environment", async () => {
    const local = await localFloxmeta("alice", "alice", ["web", "secret"], 2);
    const pushed = await git(["--git-dir", local, "push", url("alice", alice), "web", "secret"]);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.deepEqual(access.pushes.slice(-2).sort(), ["alice/secret", "alice/web"]);
    assert.equal(access.environments.get("alice/web"), "private");
    const hook = await readFile(
      join(work, "data", "git", "alice", "floxmeta", "hooks", "pre-receive"),
      "utf8",
    );
    assert.match(hook, /pre-receive\.js/);
  });

  it("refuses anonymous reads of private environments and challenges for credentials", async () => {
    const plain = await git(["ls-remote", url("alice")]);
    assert.notEqual(plain.code, 0);
    assert.match(plain.stderr, /could not read Username|Authentication failed/);
    const empty = await git(["ls-remote", `http://oauth:@${new URL(hub.url).host}/git/alice/floxmeta`]);
    assert.notEqual(empty.code, 0);
    assert.doesNotMatch(empty.stdout, /refs\/heads/);
  });

  it("serves the owner every branch, and other callers only the environments they may read", async () => {
    access.environments.set("alice/web", "public");
    const own = await git(["ls-remote", url("alice", alice)]);
    assert.equal(own.code, 0, own.stderr);
    assert.match(own.stdout, /refs\/heads\/web/);
    assert.match(own.stdout, /refs\/heads\/secret/);
    const other = await git(["ls-remote", url("alice", bob)]);
    assert.equal(other.code, 0, other.stderr);
    assert.match(other.stdout, /refs\/heads\/web/);
    assert.doesNotMatch(other.stdout, /secret|HEAD/);
    // Flox's credential helper answers the challenge with an empty password when it has no token.
    const anonymous = await git(["ls-remote", `http://oauth:@${new URL(hub.url).host}/git/alice/floxmeta`]);
    assert.equal(anonymous.code, 0, anonymous.stderr);
    assert.match(anonymous.stdout, /refs\/heads\/web/);
    assert.doesNotMatch(anonymous.stdout, /secret/);
  });

  it("clones a public environment anonymously but never a private one, not even by commit id", async () => {
    const anonymous = `http://oauth:@${new URL(hub.url).host}/git/alice/floxmeta`;
    const cloned = await git([
      "clone",
      "--quiet",
      "--bare",
      "--branch",
      "web",
      anonymous,
      join(work, "anon-web"),
    ]);
    assert.equal(cloned.code, 0, cloned.stderr);
    const secret = await git([
      "clone",
      "--quiet",
      "--bare",
      "--branch",
      "secret",
      anonymous,
      join(work, "anon-s"),
    ]);
    assert.notEqual(secret.code, 0);
    assert.match(secret.stderr, /Remote branch secret not found/);
    const tip = await remoteTip("alice", "secret");
    for (const version of ["0", "2"]) {
      const fetched = await git([
        "-c",
        `protocol.version=${version}`,
        "--git-dir",
        join(work, "anon-web"),
        "fetch",
        anonymous,
        tip,
      ]);
      assert.notEqual(fetched.code, 0, `protocol v${version} fetched a private commit`);
    }
  });

  it("lets an organisation writer push and create, a reader read but not push, a stranger neither", async () => {
    const local = await localFloxmeta("acme", "acme", ["api"]);
    const byReader = await git(["--git-dir", local, "push", url("acme", dave), "api"]);
    assert.notEqual(byReader.code, 0);
    assert.match(byReader.stderr, /403/);
    const byWriter = await git(["--git-dir", local, "push", url("acme", carol), "api"]);
    assert.equal(byWriter.code, 0, byWriter.stderr);
    const read = await git(["ls-remote", url("acme", dave), "api"]);
    assert.match(read.stdout, /refs\/heads\/api/);
    const stranger = await git(["ls-remote", url("acme", bob)]);
    assert.notEqual(stranger.code, 0);
    assert.match(stranger.stderr, /403/);
    const anonymousPush = await git(["--git-dir", local, "push", url("acme"), "api"]);
    assert.notEqual(anonymousPush.code, 0);
  });

  it("advertises a branch's new tip right after a push, and a changed view right after a visibility change", async () => {
    const before = await git(["ls-remote", url("alice", alice), "web"]);
    assert.equal(before.stdout.split("\t")[0], await remoteTip("alice", "web"));
    const dir = await checkout(url("alice", alice), "web", "readvertise");
    await writeFile(join(dir, "note"), "moved\n");
    await commitAll(dir, "move web");
    const pushed = await git(["push", "--quiet", url("alice", alice), "HEAD:web"], dir);
    assert.equal(pushed.code, 0, pushed.stderr);
    const after = await git(["ls-remote", url("alice", alice), "web"]);
    assert.equal(after.stdout.split("\t")[0], await remoteTip("alice", "web"));
    assert.notEqual(after.stdout, before.stdout);
    // The same tips, another view: bob sees web only while it is public.
    const anonymousUrl = `http://oauth:@${new URL(hub.url).host}/git/alice/floxmeta`;
    access.environments.set("alice/web", "private");
    const hidden = await git(["ls-remote", url("alice", bob)]);
    access.environments.set("alice/web", "public");
    const shown = await git(["ls-remote", anonymousUrl]);
    assert.ok(!hidden.stdout.includes("refs/heads/web"), hidden.stdout);
    assert.ok(shown.stdout.includes("refs/heads/web"), shown.stdout);
  });

  it("refuses a push by someone without write access to the owner", async () => {
    const local = await localFloxmeta("bob-to-alice", "alice", ["other"]);
    const pushed = await git(["--git-dir", local, "push", url("alice", bob), "other"]);
    assert.notEqual(pushed.code, 0);
    assert.match(pushed.stderr, /403/);
  });

  it("refuses an unknown token with 401 and never logs tokens", async () => {
    const listed = await git(["ls-remote", url("alice", "not-a-token")]);
    assert.notEqual(listed.code, 0);
    assert.match(listed.stderr, /Authentication failed/);
    const log = logLines.join("");
    for (const token of [alice, bob, carol, dave, "not-a-token"]) assert.ok(!log.includes(token));
  });
});

describe("pre-receive validation", () => {
  let dir: string;
  const push = async (ref = "HEAD:web") => git(["push", url("alice", alice), ref], dir);

  before(async () => {
    const local = await localFloxmeta("for-refusals", "alice", ["web"], 2);
    dir = await checkout(local, "web", "refusals");
    // Continue from the hub's copy of web so pushes are fast-forwards.
    assert.equal(
      (await git(["fetch", "--quiet", url("alice", alice), "+web:refs/remotes/hub/web"], dir)).code,
      0,
    );
    assert.equal((await git(["reset", "--quiet", "--hard", "refs/remotes/hub/web"], dir)).code, 0);
  });

  const cases: { name: string; change: (dir: string) => Promise<void>; message: RegExp }[] = [
    {
      name: "metadata.json that does not parse",
      change: (d) => writeFile(join(d, "metadata.json"), "{ not json"),
      message: /environment 'web': metadata\.json is not valid JSON/,
    },
    {
      name: "a generation without N/env/manifest.toml",
      change: async (d) => {
        const meta = JSON.parse(await readFile(join(d, "metadata.json"), "utf8"));
        meta.total_generations = 3;
        meta.history.push({ ...meta.history.at(-1), current_generation: "3", previous_generation: "2" });
        await writeFile(join(d, "metadata.json"), JSON.stringify(meta));
      },
      message: /live generation 3 has no 3\/env\/manifest\.toml/,
    },
    {
      name: "history that shrinks",
      change: async (d) => {
        const meta = JSON.parse(await readFile(join(d, "metadata.json"), "utf8"));
        meta.history = meta.history.slice(0, 1);
        await writeFile(join(d, "metadata.json"), JSON.stringify(meta));
      },
      message: /generation 2 would be removed; history only grows/,
    },
  ];
  for (const c of cases) {
    it(`refuses ${c.name} with one line and leaves the branch unchanged`, async () => {
      const before = await remoteTip("alice", "web");
      await c.change(dir);
      await commitAll(dir, c.name);
      const pushed = await push();
      assert.notEqual(pushed.code, 0);
      const remote = pushed.stderr.split("\n").filter((line) => line.startsWith("remote: imageless hub"));
      assert.equal(remote.length, 1, pushed.stderr);
      assert.match(remote[0] ?? "", c.message);
      assert.match(pushed.stderr, /pre-receive hook declined/);
      assert.equal(await remoteTip("alice", "web"), before);
      assert.equal((await git(["reset", "--quiet", "--hard", "HEAD~1"], dir)).code, 0);
    });
  }

  it("refuses rewritten history", async () => {
    assert.equal((await git(["commit", "--quiet", "--amend", "-m", "rewritten"], dir)).code, 0);
    const pushed = await push("+HEAD:web");
    assert.match(
      pushed.stderr,
      /remote: imageless hub: push refused: environment 'web': history was rewritten/,
    );
    assert.equal((await git(["reset", "--quiet", "--hard", "refs/remotes/hub/web"], dir)).code, 0);
  });

  it("refuses a ref outside refs/heads/", async () => {
    const pushed = await push("HEAD:refs/tags/v1");
    assert.match(
      pushed.stderr,
      /remote: imageless hub: push refused: refs\/tags\/v1: only environment branches/,
    );
  });

  it("accepts a new generation and records the push", async () => {
    const pushes = access.pushes.length;
    const meta = JSON.parse(await readFile(join(dir, "metadata.json"), "utf8"));
    meta.total_generations = 3;
    meta.history.push({ ...meta.history.at(-1), current_generation: "3", previous_generation: "2" });
    await writeFile(join(dir, "metadata.json"), JSON.stringify(meta));
    await mkdir(join(dir, "3", "env"), { recursive: true });
    await writeFile(join(dir, "3", "env", "manifest.toml"), manifest);
    await commitAll(dir, "Create generation 3");
    const pushed = await push();
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.deepEqual(access.pushes.slice(pushes), ["alice/web"]);
  });
});

describe("git in a real hub process (imageless hub serve)", () => {
  let real: HubProcess;
  const users: Record<string, string> = {};
  const at = (owner: string, token?: string) =>
    `http://${token === undefined ? "oauth:" : `oauth:${token}`}@${new URL(real.url).host}/git/${owner}/floxmeta`;

  before(async () => {
    real = await startHubProcess();
    for (const handle of ["alice", "bob"]) {
      const out = await new Promise<string>((resolve, reject) =>
        execFile(
          join(repoRoot(), "bin", "imageless"),
          ["hub", "user", "create", handle, "--data-dir", real.dataDir],
          (error, stdout, stderr) => (error === null ? resolve(stdout.trim()) : reject(new Error(stderr))),
        ),
      );
      users[handle] = out;
    }
  });
  after(() => real?.stop());

  it("records a pushed environment as private, shows it only to its owner, and refuses a broken push", async () => {
    const local = await localFloxmeta("real", "alice", ["web"], 2);
    const pushed = await git(["--git-dir", local, "push", at("alice", users["alice"]), "web"]);
    assert.equal(pushed.code, 0, pushed.stderr);
    const listed = await fetch(`${real.url}/api/v1/environments?owner=alice`, {
      headers: { authorization: `Bearer ${users["alice"]}` },
    });
    const environments = (await listed.json()) as {
      name: string;
      visibility: string;
      liveGeneration: number;
    }[];
    assert.deepEqual(
      environments.map((e) => [e.name, e.visibility, e.liveGeneration]),
      [["web", "private", 2]],
    );
    assert.match((await git(["ls-remote", at("alice", users["alice"])])).stdout, /refs\/heads\/web/);
    assert.notEqual((await git(["ls-remote", at("alice", users["bob"])])).code, 0);
    assert.notEqual((await git(["ls-remote", at("alice")])).code, 0);

    const dir = await checkout(local, "web", "real-broken");
    await writeFile(join(dir, "metadata.json"), "[]");
    await commitAll(dir, "broken");
    const refused = await git(["push", at("alice", users["alice"]), "HEAD:web"], dir);
    assert.match(
      refused.stderr,
      /remote: imageless hub: push refused: environment 'web': metadata\.json must be a JSON object/,
    );
    for (const token of Object.values(users)) assert.ok(!real.log().includes(token));
  });
});
