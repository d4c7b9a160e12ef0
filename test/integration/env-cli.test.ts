import assert from "node:assert/strict";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parseGenerationsMetadata } from "../../src/floxhub/metadata.js";
import { runGit } from "../../src/git/run-git.js";
import { type HubProcess, startHubProcess } from "../harness/hub.js";
import { cliUser } from "../harness/hub-cli.js";
import type { ProgramRun } from "../harness/run-program.js";
import { makeTempDir, removeTree } from "../harness/temp.js";

// `imageless env …` and `imageless auth …` as a person runs them, against a real hub process.

const HELLO = "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-hello-1.0";
const HELLO2 = "/nix/store/abcdfghijklmnpqrsvwxyz0123456789-hello-2.0";

let hub: HubProcess;
let work: string;
let handle = "";
const outputs: string[] = [];

/** Runs the CLI as this suite's user (HOME and cwd `work`), keeping what it printed. */
async function cli(args: readonly string[], input?: string): Promise<ProgramRun> {
  const result = await cliUser(work, { cwd: work }).run(args, input);
  outputs.push(result.stdout, result.stderr);
  return result;
}

async function ok(args: readonly string[], input?: string): Promise<string> {
  const r = await cli(args, input);
  assert.equal(r.code, 0, `imageless ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}

async function json(args: readonly string[]): Promise<unknown> {
  return JSON.parse(await ok([...args, "--json"]));
}

async function writeEnvDir(dir: string, manifest: string, lock?: string): Promise<void> {
  await mkdir(join(dir, ".flox", "env"), { recursive: true });
  await writeFile(join(dir, ".flox", "env", "manifest.toml"), manifest);
  if (lock !== undefined) await writeFile(join(dir, ".flox", "env", "manifest.lock"), lock);
}

const manifest = (path: string, greeting: string) =>
  [
    "version = 1",
    "[install]",
    `hello.store-path = "${path}"`,
    "[vars]",
    `GREETING = "${greeting}"`,
    "[hook]",
    'on-activate = "echo activated"',
    "[profile]",
    'common = "alias hi=hello"',
    "[options]",
    'systems = ["x86_64-linux"]',
    "",
  ].join("\n");

before(async () => {
  work = await makeTempDir("env-cli");
  hub = await startHubProcess();
  await writeFile(join(work, "token"), `${hub.adminToken}\n`);
});

after(async () => {
  await hub?.stop();
  await removeTree(work);
});

describe("imageless auth", () => {
  it("login refuses a token the hub refuses and saves nothing", async () => {
    await writeFile(join(work, "bad-token"), "not-a-token\n");
    const r = await cli(["auth", "login", "--hub", hub.url, "--token-file", join(work, "bad-token")]);
    assert.equal(r.code, 4);
    assert.match(r.stderr, /^imageless: reading the account of the token: .*\(HTTP 401\)\n$/);
    assert.equal((await cli(["auth", "token"])).code, 4);
  });

  it("login --token-file verifies the token, saves it 0600; token prints it; the help says no device flow", async () => {
    const out = await ok(["auth", "login", "--hub", hub.url, "--token-file", join(work, "token")]);
    const match = /^logged in to (\S+) as (\S+) \(saved in (\S+)\)\n$/.exec(out);
    assert.ok(match, out);
    assert.equal(match[1], hub.url);
    handle = match[2] ?? "";
    assert.equal((await stat(join(work, "config", "imageless", "credentials.toml"))).mode & 0o777, 0o600);
    assert.equal(await ok(["auth", "token"]), `${hub.adminToken}\n`);
    assert.match(await ok(["auth", "login", "--help"]), /browser\s+device flow is not\s+supported/);
  });

  it("login reads the token from stdin with --token-file -", async () => {
    assert.match(
      await ok(["auth", "login", "--hub", hub.url, "--token-file", "-"], hub.adminToken),
      /logged in/,
    );
  });
});

describe("imageless env against the hub", () => {
  const ref = () => `${handle}/web`;

  it("push creates the branch as flox push does: initialize commit, then Create generation 1", async () => {
    const dir = join(work, "web");
    await writeEnvDir(dir, manifest(HELLO, "one"));
    const out = await ok(["env", "push", "-d", dir, "-r", ref(), "--no-copy-paths"]);
    assert.equal(
      out,
      `${ref()}: pushed generation 1 (new environment, private); it is live\nlocked the store-path packages here (no manifest.lock in the directory)\n`,
    );
    const repo = join(hub.dataDir, "git", handle, "floxmeta");
    const log = (await runGit(["--git-dir", repo, "log", "--format=%s", "web"])).stdout
      .toString()
      .trim()
      .split("\n");
    assert.deepEqual(log, ["Create generation 1", "Initialize generations branch for environment 'web'"]);
    const files = (
      await runGit(["--git-dir", repo, "ls-tree", "-r", "--name-only", "web"])
    ).stdout.toString();
    assert.deepEqual(files.trim().split("\n"), [
      "1/env/manifest.lock",
      "1/env/manifest.toml",
      "metadata.json",
    ]);
    const lock = JSON.parse(
      (await runGit(["--git-dir", repo, "show", "web:1/env/manifest.lock"])).stdout.toString(),
    );
    assert.deepEqual(lock.packages, [
      { install_id: "hello", store_path: HELLO, system: "x86_64-linux", priority: 5 },
    ]);
    const metaText = (await runGit(["--git-dir", repo, "show", "web:metadata.json"])).stdout.toString();
    const entry = parseGenerationsMetadata(metaText, "pushed metadata").history[0];
    assert.equal(entry?.kind, "import");
    assert.equal(entry?.author, handle);
    assert.equal(entry?.currentGeneration, 1);
    assert.equal(entry?.previousGeneration, undefined);
    assert.deepEqual(entry?.command, ["imageless", "env", "push", "-d", dir, "-r", ref(), "--no-copy-paths"]);
    assert.ok(Math.abs((entry?.timestamp ?? 0) - Date.now() / 1000) < 60);
  });

  it("push of a changed manifest (with its own lock) makes generation 2 live", async () => {
    const dir = join(work, "web");
    const lock = {
      "lockfile-version": 1,
      manifest: { version: 1, install: { hello: { "store-path": HELLO2 } }, vars: { GREETING: "two" } },
      packages: [{ install_id: "hello", store_path: HELLO2, system: "x86_64-linux", priority: 5 }],
    };
    await writeEnvDir(dir, manifest(HELLO2, "two"), JSON.stringify(lock));
    const pushed = (await json(["env", "push", "-d", dir, "-r", ref(), "--no-copy-paths"])) as Record<
      string,
      unknown
    >;
    assert.equal(pushed["generation"], 2);
    assert.equal(pushed["created"], false);
    assert.equal(pushed["lockedHere"], false);
  });

  it("list, show, generations and history read what was pushed", async () => {
    const list = (await json(["env", "list"])) as Record<string, unknown>[];
    assert.deepEqual(
      list
        .filter((e) => e["name"] === "web")
        .map((e) => [e["owner"], e["visibility"], e["liveGeneration"], e["totalGenerations"]]),
      [[handle, "private", 2, 2]],
    );
    const show = (await json(["env", "show", "-r", ref(), "-g", "1"])) as Record<string, unknown>;
    assert.equal(show["generation"], 1);
    assert.deepEqual(show["vars"], { GREETING: "one" });
    const text = await ok(["env", "show", "-r", ref()]);
    assert.match(text, /generation 2 \(live\)/);
    assert.match(text, new RegExp(`hello .* ${HELLO2} +x86_64-linux`));
    assert.match(text, /Hook on-activate:\n {2}echo activated/);
    const gens = (await json(["env", "generations", "-r", ref()])) as Record<string, unknown>[];
    assert.deepEqual(
      gens.map((g) => [g["generation"], g["live"]]),
      [
        [1, false],
        [2, true],
      ],
    );
    const history = await ok(["env", "history", "-r", ref()]);
    assert.match(history, new RegExp(`${handle} +\\S+ +import.* 1 +imageless env push`));
  });

  it("switch and rollback change the live generation and are recorded in the history", async () => {
    assert.equal(await ok(["env", "switch", "-r", ref(), "1"]), `${ref()}: generation 1 is live (was 2)\n`);
    const show = (await json(["env", "show", "-r", ref()])) as Record<string, unknown>;
    assert.equal(show["liveGeneration"], 1);
    assert.equal(await ok(["env", "rollback", "-r", ref()]), `${ref()}: generation 2 is live (was 1)\n`);
    const history = (await json(["env", "history", "-r", ref()])) as Record<string, unknown>[];
    assert.deepEqual(history.map((h) => [h["kind"], h["currentGeneration"]]).slice(-2), [
      ["switch_generation", 1],
      ["switch_generation", 2],
    ]);
    const missing = await cli(["env", "switch", "-r", ref(), "9"]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /^imageless: switching .* to generation 9: .*\n$/);
  });

  it("pull writes the live or given generation's manifest and lock", async () => {
    const dir = join(work, "pulled");
    assert.match(
      await ok(["env", "pull", "-r", ref(), "-d", dir, "-g", "1"]),
      /^pulled .* generation 1 into /,
    );
    assert.equal(await readFile(join(dir, ".flox", "env", "manifest.toml"), "utf8"), manifest(HELLO, "one"));
    assert.match(await readFile(join(dir, ".flox", "env", "manifest.lock"), "utf8"), new RegExp(HELLO));
    await ok(["env", "pull", "-r", ref(), "-d", dir]);
    assert.equal(await readFile(join(dir, ".flox", "env", "manifest.toml"), "utf8"), manifest(HELLO2, "two"));
  });

  it("push refuses catalog packages without a lock, and a missing directory, with exit 2 and 3", async () => {
    const dir = join(work, "catalog");
    await writeEnvDir(dir, 'version = 1\n[install]\njq.pkg-path = "jq"\n');
    const r = await cli(["env", "push", "-d", dir, "-r", ref(), "--no-copy-paths"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /has catalog or flake packages \('jq'\) and no manifest\.lock: lock it with Flox/);
    const none = await cli(["env", "push", "-d", join(work, "nowhere"), "-r", ref()]);
    assert.equal(none.code, 3);
  });

  it("visibility public lets anonymous clients read; a foreign --hub gets no saved token", async () => {
    assert.equal(
      (await cli(["env", "show", "-r", ref(), "--hub", hub.url.replace("127.0.0.1", "localhost")])).code,
      4,
    );
    await ok(["env", "visibility", "-r", ref(), "public"]);
    const anon = await cli([
      "env",
      "show",
      "-r",
      ref(),
      "--hub",
      hub.url.replace("127.0.0.1", "localhost"),
      "--json",
    ]);
    assert.equal(anon.code, 0, anon.stderr);
  });

  it("logout removes the token; no command but auth token ever printed it", async () => {
    assert.match(await ok(["auth", "logout"]), /logged out/);
    assert.equal((await cli(["auth", "token"])).code, 4);
    const printed = outputs.filter((o) => o.includes(hub.adminToken));
    // Only `auth token`'s own output holds it.
    assert.deepEqual(printed, [`${hub.adminToken}\n`]);
  });
});
