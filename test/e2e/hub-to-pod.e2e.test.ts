import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { EMPTY_IMAGE_REF, FLOX_HANDLER, type FloxNode, runInEnvironment } from "../harness/flox-node.js";
import { type HubProcess, startHubProcess } from "../harness/hub.js";
import { type CliUser, cliUser, loginAsAdmin, pushEnv, startNodeOnHub } from "../harness/hub-cli.js";
import { buildFixturePackages, type Fixtures } from "../harness/nix-fixtures.js";
import { readContainerLog, removePod, runPod, waitForExit } from "../harness/pod.js";
import { writeStorePathEnv } from "../harness/store-path-env.js";
import { makeTempDir, removeTree } from "../harness/temp.js";

// The whole path: `imageless env push` (store-path packages, closures copied to the hub's cache) →
// the hub as git server and binary cache → a pod on containerd through the node runtime; then
// `imageless env switch` on the hub changes what the next pod runs.

let work: string;
let hub: HubProcess;
let user: CliUser;
let fixtures: Fixtures;
let node: FloxNode | undefined;
let handle = "";

/** Runs `script` in a pod of `ref`; its stdout, failing on a start error or a non-zero exit. */
async function podOutput(name: string, ref: string, script: string): Promise<string> {
  assert.ok(node);
  const { output, ...ending } = await runInEnvironment(node, name, ref, script);
  assert.deepEqual(ending, { exitCode: 0 });
  return output ?? "";
}

before(async () => {
  work = await makeTempDir("hub-to-pod");
  fixtures = await buildFixturePackages(join(work, "fixtures"));
  hub = await startHubProcess();
  user = cliUser(work);
  handle = await loginAsAdmin(user, hub);
});

after(async () => {
  await node?.stop();
  await hub?.stop();
  await removeTree(work);
});

describe("an environment pushed to the hub runs in a pod", () => {
  const ref = () => `${handle}/hello`;

  it("env push uploads the packages' closures to the hub's cache and creates generations 1 and 2", async () => {
    const dir = join(work, "hello-env");
    const { hello, hello2, coreutils } = fixtures.packages;
    await writeStorePathEnv(dir, { hello, coreutils });
    const first = await pushEnv(user, dir, ref(), fixtures);
    assert.equal(first.generation, 1);
    // hello, coreutils and busybox, which both reference.
    assert.equal(first.copied, 3);
    await writeStorePathEnv(dir, { hello: hello2, coreutils }, { GREETING: "from generation two" });
    const second = await pushEnv(user, dir, ref(), fixtures);
    assert.equal(second.generation, 2);
    assert.equal(second.copied, 1, "only hello-2.0 is new to the cache");
    assert.equal(second.alreadyPresent, 2, "coreutils and busybox were there, identical");
    // The cache serves a path only to those who may read an environment whose lock holds it.
    const basic = Buffer.from(`oauth:${hub.adminToken}`).toString("base64");
    const hash = hello2.slice("/nix/store/".length, "/nix/store/".length + 32);
    const narinfo = await fetch(`${hub.url}/cache/${handle}/${hash}.narinfo`, {
      headers: { authorization: `Basic ${basic}` },
    });
    assert.equal(narinfo.status, 200);
    await user.ok(["env", "visibility", "-r", ref(), "public"]);
  });

  it("a node using the hub as git server and only binary cache runs the live generation", async () => {
    // The node trusts only the hub's key and substitutes only from the hub: `[floxhub] cache-url`,
    // from which a start of `owner/name` substitutes `<cache-url>/<owner>` with the pod's token.
    node = await startNodeOnHub(hub, fixtures);
    assert.equal(
      await podOutput("hub-live", ref(), 'hello; echo "$GREETING"'),
      "Hello, world! (v2)\nfrom generation two",
    );
  });

  it("env switch on the hub changes what the next pod runs", async () => {
    assert.match(await user.ok(["env", "switch", "-r", ref(), "1"]), /generation 1 is live \(was 2\)/);
    assert.equal(
      await podOutput("hub-switched", ref(), 'hello; echo "${GREETING:-unset}"'),
      "Hello, world!\nunset",
    );
    await user.ok(["env", "rollback", "-r", ref()]);
    assert.equal(await podOutput("hub-rolled-back", ref(), "hello"), "Hello, world! (v2)");
  });

  it("a private environment runs only for a pod whose Secret holds a token that may read it", async () => {
    assert.ok(node);
    const secret = `${handle}/private-greeting`;
    const dir = join(work, "private-env");
    // greeting is on no node yet: its nar must come from the hub's cache, which guards it like the branch.
    await writeStorePathEnv(dir, {
      greeting: fixtures.packages.greeting,
      coreutils: fixtures.packages.coreutils,
    });
    const pushed = await pushEnv(user, dir, secret, fixtures);
    assert.equal(pushed.generation, 1);
    const anonymous = await runPod(node.cri, {
      name: "private-anonymous",
      runtimeHandler: FLOX_HANDLER,
      annotations: { "flox.dev/environment": secret },
      logDir: node.logDir,
      containers: [{ name: "app", image: EMPTY_IMAGE_REF, command: ["greet", "hi"] }],
    });
    try {
      assert.match(
        anonymous.startErrors["app"] ?? "",
        /OCI runtime create failed: imageless: .*private-greeting/,
      );
    } finally {
      await removePod(node.cri, anonymous.podId);
    }
    const secretDir = join(work, "secret");
    await mkdir(secretDir, { recursive: true });
    await writeFile(join(secretDir, "floxhub-token"), `${hub.adminToken}\n`);
    const withToken = await runPod(node.cri, {
      name: "private-token",
      runtimeHandler: FLOX_HANDLER,
      annotations: { "flox.dev/environment": secret },
      logDir: node.logDir,
      containers: [
        {
          name: "app",
          image: EMPTY_IMAGE_REF,
          command: ["greet", "hi"],
          mounts: [{ hostPath: secretDir, containerPath: "/var/run/secrets/flox.dev", readonly: true }],
        },
      ],
    });
    try {
      assert.deepEqual(withToken.startErrors, {});
      assert.equal(await waitForExit(node.cri, withToken.containers["app"] ?? "", 60_000), 0);
      assert.equal((await readContainerLog(withToken.logPaths["app"] ?? "")).stdout.trim(), "hi");
      // The download progress of this first start (greeting came through the token-guarded cache)
      // names it, and the token appears in no line of the node log.
      const log = await readFile(node.runtimeLog, "utf8");
      const copied = log
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((e) => e["event"] === "realise.path" && e["container"] === withToken.containers["app"])
        .map((e) => e["path"]);
      assert.ok(copied.includes(fixtures.packages.greeting), `greeting was copied: ${copied.join(" ")}`);
      assert.ok(!log.includes(hub.adminToken), "the token is not in runtime.jsonl");
    } finally {
      await removePod(node.cri, withToken.podId);
    }
  });
});
