import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { EMPTY_IMAGE_REF, FLOX_HANDLER, type FloxNode, startFloxNode } from "../harness/flox-node.js";
import { type HubProcess, startHubProcess } from "../harness/hub.js";
import { buildFixturePackages, type Fixtures } from "../harness/nix-fixtures.js";
import { readContainerLog, removePod, runPod, waitForExit } from "../harness/pod.js";
import { repoRoot } from "../harness/repo-root.js";
import { runProgram } from "../harness/run-program.js";
import { makeTempDir, removeTree } from "../harness/temp.js";

// The whole path: `imageless env push` (store-path packages, closures copied to the hub's cache) →
// the hub as git server and binary cache → a pod on containerd through the node runtime; then
// `imageless env switch` on the hub changes what the next pod runs.

const run = promisify(execFile);
const CLI = () => join(repoRoot(), "bin", "imageless");

let work: string;
let hub: HubProcess;
let fixtures: Fixtures;
let node: FloxNode | undefined;
let handle = "";

/** Runs the CLI with this suite's config home; fails the test with its stderr on a non-zero exit. */
async function cli(args: readonly string[], input?: string): Promise<string> {
  const run = await runProgram(CLI(), args, {
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: work, XDG_CONFIG_HOME: join(work, "config") },
    input: input ?? "",
  });
  if (run.code !== 0) throw new Error(`imageless ${args.join(" ")} exited ${run.code}: ${run.stderr}`);
  return run.stdout;
}

async function writeEnv(
  dir: string,
  packages: Record<string, string>,
  vars: Record<string, string> = {},
): Promise<void> {
  await mkdir(join(dir, ".flox", "env"), { recursive: true });
  const toml = [
    "version = 1",
    "[install]",
    ...Object.entries(packages).map(([id, path]) => `${id}.store-path = "${path}"`),
    "[vars]",
    ...Object.entries(vars).map(([k, v]) => `${k} = ${JSON.stringify(v)}`),
    "[options]",
    'systems = ["x86_64-linux"]',
    "",
  ].join("\n");
  await writeFile(join(dir, ".flox", "env", "manifest.toml"), toml);
}

/** Runs one pod with `command` in `ref` and returns its stdout. */
async function podOutput(name: string, ref: string, command: string): Promise<string> {
  assert.ok(node);
  const pod = await runPod(node.cri, {
    name,
    runtimeHandler: FLOX_HANDLER,
    annotations: { "flox.dev/environment": ref },
    logDir: node.logDir,
    containers: [{ name: "app", image: EMPTY_IMAGE_REF, command: ["sh", "-c", command] }],
  });
  try {
    assert.deepEqual(pod.startErrors, {});
    assert.equal(await waitForExit(node.cri, pod.containers["app"] ?? "", 60_000), 0);
    return (await readContainerLog(pod.logPaths["app"] ?? "")).stdout.trim();
  } finally {
    await removePod(node.cri, pod.podId);
  }
}

before(async () => {
  work = await makeTempDir("hub-to-pod");
  fixtures = await buildFixturePackages(join(work, "fixtures"));
  hub = await startHubProcess();
  await writeFile(join(work, "token"), hub.adminToken);
  const login = await cli(["auth", "login", "--hub", hub.url, "--token-file", join(work, "token")]);
  handle = /as (\S+) /.exec(login)?.[1] ?? "";
  assert.notEqual(handle, "");
});

after(async () => {
  await node?.stop();
  await hub?.stop();
  await removeTree(work);
});

describe("an environment pushed to the hub runs in a pod", () => {
  const ref = () => `${handle}/hello`;
  const fromStore = () => `local?root=${fixtures.buildStore.storeRoot}`;
  /** `imageless env push` of `dir` to `target`, copying the closures from the fixture build store. */
  const pushEnv = async (
    dir: string,
    target: string,
  ): Promise<{ generation: number; copied: number; alreadyPresent: number }> =>
    JSON.parse(
      await cli([
        "env",
        "push",
        "-d",
        dir,
        "-r",
        target,
        "--copy-paths",
        "--from-store",
        fromStore(),
        "--json",
      ]),
    );

  it("env push uploads the packages' closures to the hub's cache and creates generations 1 and 2", async () => {
    const dir = join(work, "hello-env");
    const { hello, hello2, coreutils } = fixtures.packages;
    await writeEnv(dir, { hello, coreutils });
    const first = await pushEnv(dir, ref());
    assert.equal(first.generation, 1);
    // hello, coreutils and busybox, which both reference.
    assert.equal(first.copied, 3);
    await writeEnv(dir, { hello: hello2, coreutils }, { GREETING: "from generation two" });
    const second = await pushEnv(dir, ref());
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
    await cli(["env", "visibility", "-r", ref(), "public"]);
  });

  it("a node using the hub as git server and only binary cache runs the live generation", async () => {
    const { stdout } = await run(CLI(), ["hub", "cache-key", "--data-dir", hub.dataDir]);
    const hubKey = stdout.trim();
    assert.match(hubKey, /^[^:\s]+:[A-Za-z0-9+/=]+$/);
    // The node trusts only the hub's key and substitutes only from the hub: `[floxhub] cache-url`,
    // from which a start of `owner/name` substitutes `<cache-url>/<owner>` with the pod's token.
    node = await startFloxNode({
      gitUrl: `${hub.url}/git`,
      cacheUrl: `${hub.url}/cache`,
      fixtures: { ...fixtures, publicKey: hubKey },
    });
    assert.equal(
      await podOutput("hub-live", ref(), 'hello; echo "$GREETING"'),
      "Hello, world! (v2)\nfrom generation two",
    );
  });

  it("env switch on the hub changes what the next pod runs", async () => {
    assert.match(await cli(["env", "switch", "-r", ref(), "1"]), /generation 1 is live \(was 2\)/);
    assert.equal(
      await podOutput("hub-switched", ref(), 'hello; echo "${GREETING:-unset}"'),
      "Hello, world!\nunset",
    );
    await cli(["env", "rollback", "-r", ref()]);
    assert.equal(await podOutput("hub-rolled-back", ref(), "hello"), "Hello, world! (v2)");
  });

  it("a private environment runs only for a pod whose Secret holds a token that may read it", async () => {
    assert.ok(node);
    const secret = `${handle}/private-greeting`;
    const dir = join(work, "private-env");
    // greeting is on no node yet: its nar must come from the hub's cache, which guards it like the branch.
    await writeEnv(dir, { greeting: fixtures.packages.greeting, coreutils: fixtures.packages.coreutils });
    const pushed = await pushEnv(dir, secret);
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
