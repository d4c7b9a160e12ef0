import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { useFloxNode } from "../harness/e2e-node.js";
import { fixtureGeneration, helloGeneration } from "../harness/flox-envs.js";
import { EMPTY_IMAGE_REF, FLOX_HANDLER } from "../harness/flox-node.js";
import { addGeneration } from "../harness/floxmeta-fixture.js";
import { setConfigKeys } from "../harness/node-config-edit.js";
import { runToCompletion } from "../harness/pod.js";

const TOKEN = `imageless-offline-${randomBytes(12).toString("hex")}`;

let secret: string;

/** Runs `hello` from `env` with or without the token; returns its output or the start error. */
async function runHello(
  name: string,
  env: string,
  withToken = true,
): Promise<{ output?: string; error?: string }> {
  const result = await runToCompletion(e2e.node.cri, {
    name,
    runtimeHandler: FLOX_HANDLER,
    annotations: { "flox.dev/environment": env },
    logDir: e2e.node.logDir,
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

const e2e = useFloxNode("offline", {
  environments: ({ packages: { hello, hello2, coreutils } }) => [
    {
      name: "web",
      generations: [helloGeneration({ hello, coreutils }), helloGeneration({ hello: hello2, coreutils })],
    },
  ],
  serveGit: { requireToken: TOKEN },
  afterStart: async () => {
    secret = join(e2e.work, "secret");
    await mkdir(secret);
    await writeFile(join(secret, "floxhub-token"), TOKEN);
  },
});

describe("starts while the hub is unreachable (offline grace)", () => {
  it("runs pinned and live while the hub is up, recording the authorisation without the token", async () => {
    assert.deepEqual(await runHello("online-pinned", "acme/web:1"), { output: "Hello, world!" });
    assert.deepEqual(await runHello("online-live", "acme/web"), { output: "Hello, world! (v2)" });
    const records = join(e2e.node.stateDir, "authorisations", "acme", "web");
    const files = await readdir(records);
    assert.equal(files.length, 1);
    assert.match(files[0] ?? "", /^sha256-[0-9a-f]{64}\.json$/);
    const text = await readFile(join(records, files[0] ?? ""), "utf8");
    assert.ok(!text.includes(TOKEN));
    assert.equal(JSON.parse(text).live.generation, 2);
    // A generation pushed after the node last looked: the node never holds it.
    await addGeneration(
      e2e.floxmetaRoot,
      "acme",
      "web",
      fixtureGeneration([{ installId: "hello", path: e2e.fixtures.packages.hello }]),
    );
    await e2e.git.close();
  });

  it("runs a pinned generation the node holds, logging start.offline", async () => {
    assert.deepEqual(await runHello("offline-pinned", "acme/web:1"), { output: "Hello, world!" });
    const log = await readFile(e2e.node.runtimeLog, "utf8");
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
    await setConfigKeys(e2e.node.configPath, "floxhub", { "offline-grace": "1s" });
    await sleep(1100);
    const { error } = await runHello("offline-expired", "acme/web:1");
    assert.match(
      error ?? "",
      /nothing usable is cached on this node: this token was last authorised for it at \d{4}-\d\d-\d\dT[\d:.]+Z, longer ago than \[floxhub\] offline-grace \(1s\)/,
    );
  });
});
