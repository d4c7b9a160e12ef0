import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, copyFile, mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { buildEmptyImage } from "../../src/image/empty-image.js";
import { renderRuntimeClass } from "../../src/node/runtime-class.js";
import { VERSION } from "../../src/version.js";
import { EMPTY_IMAGE_REF, FLOX_HANDLER, type FloxNode, startFloxNode } from "../harness/flox-node.js";
import { type HubProcess, startHubProcess } from "../harness/hub.js";
import { buildFixturePackages, type Fixtures } from "../harness/nix-fixtures.js";
import { setConfigKeys } from "../harness/node-config-edit.js";
import { readContainerLog, removePod, runPod } from "../harness/pod.js";
import { repoRoot } from "../harness/repo-root.js";
import { type ProgramRun, runProgram } from "../harness/run-program.js";
import { makeTempDir, removeTree } from "../harness/temp.js";

// A node without Node.js: the single executable (scripts/build-node-binary.mjs) installed beside the
// sh scripts of bin/, and containerd started with a PATH that has no `node`. The hub is an npm install
// elsewhere (it is not a node); the operator's CLI commands run from the executable too.

const execFileAsync = promisify(execFile);

/** What a node needs on PATH (docs/architecture.md, "What a node needs"), and `node` is not among them. */
const NODE_TOOLS = [
  "containerd",
  "containerd-shim-runc-v2",
  "runc",
  "nix-store",
  "nix-build",
  "git",
  "flock",
  "readlink",
  "date",
];
/** The operator's CLI also runs `nix copy` (env push --copy-paths). */
const CLI_TOOLS = [...NODE_TOOLS, "nix"];

let work: string;
let bin: string;
let nodePath: string;
let cliPath: string;
let hub: HubProcess;
let fixtures: Fixtures;
let node: FloxNode | undefined;

/** Runs the installed `imageless` with only the CLI's tools on PATH (no `node`). */
function imageless(args: readonly string[]): Promise<ProgramRun> {
  return runProgram(join(bin, "imageless"), args, {
    env: { PATH: cliPath, HOME: work, XDG_CONFIG_HOME: join(work, "config"), IMAGELESS_NODE: "/no/node" },
  });
}

/** Like {@link imageless}, failing the test with stderr on a non-zero exit; returns stdout. */
async function cli(args: readonly string[]): Promise<string> {
  const result = await imageless(args);
  assert.equal(result.code, 0, `imageless ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

/** A directory of links to `tools` as found on this machine's PATH: a PATH of exactly those. */
async function linkTools(dir: string, tools: readonly string[]): Promise<string> {
  await mkdir(dir);
  for (const tool of tools) {
    const { stdout } = await execFileAsync("sh", ["-c", `command -v ${tool}`]);
    await symlink(stdout.trim(), join(dir, tool));
  }
  return dir;
}

before(async () => {
  work = await makeTempDir("node-binary");
  // Built once per checkout and inputs (the script skips an up-to-date executable).
  await execFileAsync(process.execPath, [join(repoRoot(), "scripts", "build-node-binary.mjs")], {
    maxBuffer: 1 << 24,
  });
  // The installed layout: the sh scripts and the executable as `imageless-node` in one directory,
  // copied (not linked) so nothing of the checkout (dist/, node_modules/) is reachable from it.
  bin = join(work, "opt", "imageless", "bin");
  await mkdir(bin, { recursive: true });
  for (const script of ["imageless", "imageless-runc", "containerd-shim-flox-v2"])
    await copyFile(join(repoRoot(), "bin", script), join(bin, script));
  await copyFile(join(repoRoot(), "dist", "node-binary", "imageless"), join(bin, "imageless-node"));
  for (const file of ["imageless", "imageless-runc", "containerd-shim-flox-v2", "imageless-node"])
    await chmod(join(bin, file), 0o755);
  nodePath = await linkTools(join(work, "node-tools"), NODE_TOOLS);
  cliPath = await linkTools(join(work, "cli-tools"), CLI_TOOLS);
  fixtures = await buildFixturePackages(join(work, "fixtures"));
  hub = await startHubProcess();
});

after(async () => {
  await node?.stop();
  await hub?.stop();
  await removeTree(work);
});

describe("the single executable on a node without Node.js", () => {
  it("runs the CLI: version, RuntimeClass, the empty image, and one line for what needs the npm install", async () => {
    assert.equal(await cli(["--version"]), `${VERSION}\n`);
    assert.equal(await cli(["node", "runtimeclass"]), renderRuntimeClass());
    const image = join(work, "empty.tar");
    await cli(["image", "empty", "-o", image]);
    assert.deepEqual(await readFile(image), buildEmptyImage());
    const serve = await imageless(["hub", "serve", "--data-dir", join(work, "hub-data")]);
    assert.deepEqual(serve, {
      code: 6,
      stdout: "",
      stderr:
        "imageless: hub serve: this build cannot load better-sqlite3 (a native addon; the single executable has none): run the hub's commands from an npm install (npm ci && npm run build, then bin/imageless hub serve)\n",
    });
  });

  it("logs in and pushes an environment, and a pod runs it through the executable, telemetry sent by it", async () => {
    await writeFile(join(work, "token"), hub.adminToken);
    const login = await cli(["auth", "login", "--hub", hub.url, "--token-file", join(work, "token")]);
    const handle = /as (\S+) /.exec(login)?.[1] ?? "";
    assert.notEqual(handle, "");
    const envDir = join(work, "hello-env");
    await mkdir(join(envDir, ".flox", "env"), { recursive: true });
    await writeFile(
      join(envDir, ".flox", "env", "manifest.toml"),
      [
        "version = 1",
        "[install]",
        `hello.store-path = "${fixtures.packages.hello}"`,
        `coreutils.store-path = "${fixtures.packages.coreutils}"`,
        "[options]",
        'systems = ["x86_64-linux"]',
        "",
      ].join("\n"),
    );
    const ref = `${handle}/hello`;
    const from = `local?root=${fixtures.buildStore.storeRoot}`;
    const pushed = JSON.parse(
      await cli(["env", "push", "-d", envDir, "-r", ref, "--copy-paths", "--from-store", from, "--json"]),
    ) as { generation: number };
    assert.equal(pushed.generation, 1);
    await cli(["env", "visibility", "-r", ref, "public"]);
    const hubKey = (await cli(["hub", "cache-key", "--data-dir", hub.dataDir])).trim();

    const received: Record<string, unknown>[] = [];
    const endpoint: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        received.push(...(JSON.parse(Buffer.concat(chunks).toString()) as { events: [] }).events);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => endpoint.listen(0, "127.0.0.1", resolve));
    try {
      node = await startFloxNode({
        gitUrl: `${hub.url}/git`,
        // The hub scopes its cache per owner (SPEC §10).
        substituter: `${hub.url}/cache/${handle}`,
        fixtures: { ...fixtures, publicKey: hubKey },
        runtimeBinary: join(bin, "imageless-runc"),
        // A `node` the dispatcher fell back to would fail the start, not pass unnoticed.
        env: { PATH: nodePath, IMAGELESS_NODE: "/no/node" },
      });
      const { port } = endpoint.address() as AddressInfo;
      await setConfigKeys(node.configPath, "telemetry", {
        enabled: true,
        endpoint: `http://127.0.0.1:${port}/events`,
      });
      const pod = await runPod(node.cri, {
        name: "no-node",
        runtimeHandler: FLOX_HANDLER,
        annotations: { "flox.dev/environment": ref },
        logDir: node.logDir,
        containers: [{ name: "app", image: EMPTY_IMAGE_REF, command: ["sh", "-c", "hello; exec sleep 600"] }],
      });
      try {
        assert.deepEqual(pod.startErrors, {});
        const app = pod.containers["app"] ?? "";
        // exec goes through the executable too: the probe sees the environment's packages.
        const exec = await node.cri.execSync(app, ["hello"], 20);
        assert.equal(exec.stdout.toString(), "Hello, world!\n");
        let log = "";
        for (let i = 0; i < 100 && log === ""; i++) {
          log = (await readContainerLog(pod.logPaths["app"] ?? "")).stdout;
          if (log === "") await sleep(50);
        }
        assert.equal(log, "Hello, world!\n");
        // The CLI's CRI client reads its proto from the executable's assets and reaches containerd.
        const ls = await imageless(["pod", "ls", "--containerd-socket", node.containerd.socket]);
        assert.deepEqual([ls.code, ls.stderr], [0, ""]);
      } finally {
        await removePod(node.cri, pod.podId);
      }
      for (let i = 0; i < 200 && received.length === 0; i++) await sleep(50);
      assert.deepEqual(
        received.map((event) => [event["event"], event["environment"], event["result"], event["version"]]),
        [["runtime.container_start", ref, "ok", VERSION]],
      );
      assert.doesNotMatch(await readFile(node.runtimeLog, "utf8"), /"level":"error"/);
      // The sender is detached: wait for it to let go of its lock, so nothing outlives the suite.
      const lock = join(node.stateDir, "telemetry", "sender.lock");
      for (let i = 0; i < 200 && existsSync(lock); i++) await sleep(50);
    } finally {
      endpoint.closeAllConnections();
      await new Promise<void>((resolve) => endpoint.close(() => resolve()));
    }
  });
});
