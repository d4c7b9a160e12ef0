/**
 * A fresh node runs it: `imageless node install` adds the flox runtime to a private containerd's
 * config and installs the programs; that containerd then runs a Flox pod. An upgrade while the pod
 * runs keeps it working; uninstall is refused while it runs and gives the config back afterwards.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cp, mkdir, readFile, readlink, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { type CriClient, connectCri } from "../../src/cri/cri-client.js";
import { buildEmptyImage } from "../../src/image/empty-image.js";
import { type Containerd, startContainerd } from "../harness/containerd.js";
import { helloGeneration } from "../harness/flox-envs.js";
import { runFloxPod } from "../harness/flox-node.js";
import { writeFloxmeta } from "../harness/floxmeta-fixture.js";
import { buildFixturePackages } from "../harness/nix-fixtures.js";
import { readContainerLog, removePod, waitForExit } from "../harness/pod.js";
import { repoRoot } from "../harness/repo-root.js";
import { makeTempDir, removeTree } from "../harness/temp.js";

const run = promisify(execFile);

let work: string;
let containerd: Containerd | undefined;
let cri: CriClient | undefined;
let configFile = "";
let originalConfig = "";
let prefix = "";
let nodeConfig = "";
let installOutput = "";
let cacheUrl = "";

/** The CLI of the checkout, as an operator runs it on the node. */
async function imageless(args: readonly string[], build = repoRoot()) {
  return run(join(build, "bin", "imageless"), [...args], {
    env: { ...process.env, IMAGELESS_CONFIG: nodeConfig },
  });
}

const hostFlags = () => [
  "--containerd-config",
  configFile,
  "--prefix",
  prefix,
  "--node-config",
  nodeConfig,
  "--no-restart",
];

before(async () => {
  work = await makeTempDir("node-install-e2e");
  const fixtures = await buildFixturePackages(join(work, "fixtures"));
  cacheUrl = fixtures.cacheUrl;
  await writeFloxmeta(join(work, "floxmeta"), "acme", [
    { name: "hello", generations: [helloGeneration(fixtures.packages)] },
  ]);
  prefix = join(work, "opt", "imageless");
  nodeConfig = join(work, "etc", "imageless", "config.toml");
  // The node's own settings (a test store and cache); install keeps an existing node config.
  await mkdir(join(work, "etc", "imageless"), { recursive: true });
  await writeFile(
    nodeConfig,
    [
      "[floxhub]",
      'url = "https://hub.example.invalid"',
      `git-url = ${JSON.stringify(`file://${join(work, "floxmeta")}`)}`,
      "[nix]",
      `store-root = ${JSON.stringify(join(work, "store"))}`,
      `substituters = [${JSON.stringify(fixtures.cacheUrl)}]`,
      `trusted-public-keys = [${JSON.stringify(fixtures.publicKey)}]`,
      "[runtime]",
      `state-dir = ${JSON.stringify(join(work, "state"))}`,
      "[telemetry]",
      "enabled = false",
      "",
    ].join("\n"),
  );
  containerd = await startContainerd({
    dir: join(work, "containerd"),
    // No flox handler: install adds it.
    env: { IMAGELESS_CONFIG: nodeConfig, XDG_CACHE_HOME: join(work, "xdg-cache") },
    beforeStart: async (file) => {
      configFile = file;
      originalConfig = await readFile(file, "utf8");
      installOutput = (await imageless(["node", "install", ...hostFlags()])).stdout;
    },
  });
  await containerd.importImage(buildEmptyImage());
  cri = connectCri(containerd.socket);
});

after(async () => {
  cri?.close();
  await containerd?.stop();
  await removeTree(work);
});

describe("imageless node install on a private containerd", () => {
  it("reports what it did: containerd's version, the edited config, the release", () => {
    assert.match(
      installOutput,
      /^containerd 1\.\d+\.\d+; editing .*\/config\.toml: containerd's config \(config version 2\)\n/,
    );
    assert.match(
      installOutput,
      new RegExp(
        `\\n${configFile.replace(/[.]/g, "\\.")}: added the flox runtime \\(backup: ${configFile.replace(/[.]/g, "\\.")}\\.bak\\.1\\)\\n`,
      ),
    );
    assert.match(installOutput, /: installed release 0\.1\.0-[0-9a-f]{12}\n/);
  });

  it("doctor finds the flox runtime loaded, the programs and Nix, and names what is wrong", async () => {
    const doctor = await imageless([
      "node",
      "doctor",
      "--json",
      ...hostFlags().filter((f) => f !== "--no-restart"),
    ]).then(
      (out) => ({ code: 0, stdout: out.stdout }),
      (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
    );
    const report = JSON.parse(doctor.stdout) as {
      ok: boolean;
      checks: { name: string; ok: boolean; fix?: string }[];
    };
    assert.equal(doctor.code, 1);
    assert.deepEqual(
      report.checks.map((check) => [check.name, check.ok]),
      [
        ["node config", true],
        ["containerd: flox runtime", true],
        ["node programs", true],
        ["nix", true],
        [`substituter ${cacheUrl}`, true],
        ["floxhub https://hub.example.invalid", false],
      ],
    );
    assert.equal(
      report.checks[5]?.fix,
      "check the node's network, proxy and DNS, or the URL in the node config",
    );
  });

  it("runs a Flox pod; an upgrade keeps it working; uninstall waits for it, then restores the config", async () => {
    const client = cri as CriClient;
    const logDir = join(work, "pod-logs");
    const hello = { "flox.dev/environment": "acme/hello" };
    const once = await runFloxPod(client, { name: "hello", annotations: hello, command: ["hello"], logDir });
    try {
      assert.deepEqual(once.startErrors, {});
      assert.equal(await waitForExit(client, once.containers["app"] ?? "", 60_000), 0);
      assert.equal((await readContainerLog(once.logPaths["app"] ?? "")).stdout, "Hello, world!\n");
    } finally {
      await removePod(client, once.podId);
    }

    const pod = await runFloxPod(client, {
      name: "server",
      annotations: hello,
      command: ["sleep", "600"],
      logDir,
    });
    try {
      assert.deepEqual(pod.startErrors, {});
      const app = pod.containers["app"] ?? "";

      // A newer build (one more file), installed while the container runs.
      const newer = join(work, "newer-build");
      for (const part of ["bin", "libexec", "dist", "package.json", "package-lock.json"]) {
        await cp(join(repoRoot(), part), join(newer, part), { recursive: true, verbatimSymlinks: true });
      }
      await symlink(join(repoRoot(), "node_modules"), join(newer, "node_modules"));
      await writeFile(join(newer, "dist", "src", "upgrade-marker.js"), "export {};\n");
      const before = await readlink(join(prefix, "current"));
      const upgrade = await imageless(["node", "install", ...hostFlags()], newer);
      assert.notEqual(await readlink(join(prefix, "current")), before);
      assert.match(upgrade.stdout, /: already has the flox runtime, unchanged\n/);
      // exec goes through the new release's wrapper, into the same environment.
      const exec = await client.execSync(app, ["hello"], 30);
      assert.deepEqual(
        { exitCode: exec.exitCode, stdout: exec.stdout.toString() },
        { exitCode: 0, stdout: "Hello, world!\n" },
      );

      const refused = await imageless(["node", "uninstall", ...hostFlags()]).then(
        () => "uninstalled",
        (error: { stderr: string; code: number }) => `${error.code} ${error.stderr}`,
      );
      assert.equal(
        refused,
        `7 imageless: 1 Flox container(s) still run on this node: ${app.slice(0, 12)} (app, acme/hello): delete their pods (or drain the node) first, or pass --force (they then cannot be stopped through the flox runtime)\n`,
      );
    } finally {
      await removePod(client, pod.podId);
    }

    const uninstall = await imageless(["node", "uninstall", ...hostFlags()]);
    assert.match(uninstall.stdout, /: restored byte for byte from .*config\.toml\.bak\.1\n/);
    assert.equal(await readFile(configFile, "utf8"), originalConfig);
  });
});
