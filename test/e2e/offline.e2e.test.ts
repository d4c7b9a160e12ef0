import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fixtureGeneration, helloGeneration } from "../harness/flox-envs.js";
import { EMPTY_IMAGE_REF, FLOX_HANDLER, type FloxNode, startFloxNode } from "../harness/flox-node.js";
import { addGeneration, writeFloxmeta } from "../harness/floxmeta-fixture.js";
import { type GitHttpServer, serveGit } from "../harness/git-http-server.js";
import { buildFixturePackages, type Fixtures } from "../harness/nix-fixtures.js";
import { setConfigKeys } from "../harness/node-config-edit.js";
import { runToCompletion } from "../harness/pod.js";
import { makeTempDir, removeTree } from "../harness/temp.js";

const TOKEN = `imageless-offline-${randomBytes(12).toString("hex")}`;

let node: FloxNode;
let git: GitHttpServer | undefined;
let work: string;
let fixtures: Fixtures;
let secret: string;

/** Runs `hello` from `env` with or without the token; returns its output or the start error. */
async function runHello(
  name: string,
  env: string,
  withToken = true,
): Promise<{ output?: string; error?: string }> {
  const result = await runToCompletion(node.cri, {
    name,
    runtimeHandler: FLOX_HANDLER,
    annotations: { "flox.dev/environment": env },
    logDir: node.logDir,
    containers: [
      {
        name: "app",
        image: EMPTY_IMAGE_REF,
        command: ["hello"],
        mounts: withToken
          ? [{ hostPath: secret, containerPath: "/var/run/secrets/flox.dev", readonly: true }]
          : [],
      },
    ],
  });
  if (result.error !== undefined) return { error: result.error };
  assert.equal(result.exitCode, 0);
  return { output: result.output ?? "" };
}

before(async () => {
  work = await makeTempDir("offline");
  fixtures = await buildFixturePackages(join(work, "fixtures"));
  const { hello, hello2, coreutils } = fixtures.packages;
  await writeFloxmeta(join(work, "floxmeta"), "acme", [
    {
      name: "web",
      generations: [helloGeneration({ hello, coreutils }), helloGeneration({ hello: hello2, coreutils })],
    },
  ]);
  git = await serveGit(join(work, "floxmeta"), { requireToken: TOKEN });
  node = await startFloxNode({ gitUrl: git.url, fixtures });
  secret = join(work, "secret");
  await mkdir(secret);
  await writeFile(join(secret, "floxhub-token"), TOKEN);
});

after(async () => {
  await node?.stop();
  await git?.close();
  await removeTree(work);
});

describe("starts while the hub is unreachable (offline grace)", () => {
  it("runs pinned and live while the hub is up, recording the authorisation without the token", async () => {
    assert.deepEqual(await runHello("online-pinned", "acme/web:1"), { output: "Hello, world!" });
    assert.deepEqual(await runHello("online-live", "acme/web"), { output: "Hello, world! (v2)" });
    const records = join(node.stateDir, "authorisations", "acme", "web");
    const files = await readdir(records);
    assert.equal(files.length, 1);
    assert.match(files[0] ?? "", /^sha256-[0-9a-f]{64}\.json$/);
    const text = await readFile(join(records, files[0] ?? ""), "utf8");
    assert.ok(!text.includes(TOKEN));
    assert.equal(JSON.parse(text).live.generation, 2);
    // A generation pushed after the node last looked: the node never holds it.
    await addGeneration(
      join(work, "floxmeta"),
      "acme",
      "web",
      fixtureGeneration([{ installId: "hello", path: fixtures.packages.hello }]),
    );
    await git?.close();
    git = undefined;
  });

  it("runs a pinned generation the node holds, logging start.offline", async () => {
    assert.deepEqual(await runHello("offline-pinned", "acme/web:1"), { output: "Hello, world!" });
    const log = await readFile(node.runtimeLog, "utf8");
    const warning = log
      .split("\n")
      .filter((line) => line.includes('"event":"start.offline"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .at(-1);
    assert.equal(warning?.["level"], "warn");
    assert.equal(warning?.["env"], "acme/web:1");
    assert.equal(warning?.["generation"], 1);
    assert.match(String(warning?.["reason"]), /unreachable/);
  });

  it("runs the last live generation it resolved for an unpinned ref", async () => {
    assert.deepEqual(await runHello("offline-live", "acme/web"), { output: "Hello, world! (v2)" });
  });

  it("fails a generation the node never saw: hub unreachable and nothing usable cached", async () => {
    const { error } = await runHello("offline-uncached", "acme/web:3");
    assert.match(
      error ?? "",
      /imageless: environment 'acme\/web': FloxHub at http:\/\/127\.0\.0\.1:\d+\/git is unreachable: .*; nothing usable is cached on this node: generation 3 is not in the node's cache; start it again when the hub is reachable/,
    );
  });

  it("fails for a token that was never authorised (anonymous is its own identity)", async () => {
    const { error } = await runHello("offline-anonymous", "acme/web:1", false);
    assert.match(
      error ?? "",
      /is unreachable: .*nothing usable is cached on this node: this token was never authorised for it on this node/,
    );
  });

  it("fails once the grace period is over", async () => {
    await setConfigKeys(node.configPath, "floxhub", { "offline-grace": "1s" });
    await sleep(1100);
    const { error } = await runHello("offline-expired", "acme/web:1");
    assert.match(
      error ?? "",
      /nothing usable is cached on this node: this token was last authorised for it at \d{4}-\d\d-\d\dT[\d:.]+Z, longer ago than \[floxhub\] offline-grace \(1s\)/,
    );
  });
});
