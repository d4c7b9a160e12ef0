/**
 * The demo (`bash scripts/demo.sh`): a web app backed by Redis, both from environments on a hub, with
 * no image but the empty one. It builds the packages offline, starts the hub (SQLite) and a private
 * containerd whose `flox` handler runs imageless-runc, pushes `demo/redis` and `demo/quotes` with the
 * CLI, starts the pods from examples/*.yaml with `imageless pod run`, then updates the app without
 * an image (a new generation), shows a pinned pod keeping the old one and a rollback on the hub.
 * It stays in the foreground until Ctrl-C or `bash scripts/demo.sh stop`, then removes everything.
 *
 * `node dist/demo/run-demo.js` runs it; `node dist/demo/run-demo.js stop` stops a running one.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { connectCri } from "../src/cri/cri-client.js";
import { buildEmptyImage, EMPTY_IMAGE_REF } from "../src/image/empty-image.js";
import type { StorePath } from "../src/nix/store-path.js";
import { DEMO_DIR } from "../src/pod-runner/demo-paths.js";
import { findPod, removePod, runPodManifest } from "../src/pod-runner/run-pod.js";
import { type Containerd, isAlive, startContainerd, stopContainerdAt } from "../test/harness/containerd.js";
import { type HubProcess, startHubProcess } from "../test/harness/hub.js";
import { repoRoot } from "../test/harness/repo-root.js";
import { mountsUnder, removeTree } from "../test/harness/temp.js";
import { buildDemoPackages, type DemoPackages } from "./build-packages.js";
import { closureImage } from "./closure-image.js";

const QUOTES_URL = "http://127.0.0.1:3000/quotes/0";
const PINNED_URL = "http://127.0.0.1:3001/quotes/0";
const PORTS = [3000, 3001, 6379];
/** The programs the demo starts (containerd and its shims, the hub and CLI on node, Nix). */
const DEMO_PROGRAMS = /^(containerd|containerd-shim.*|node|imageless|nix|nix-store|nix-build)$/;
/** What `stop` needs when the demo process itself is gone. */
const STATE_FILE = join(DEMO_DIR, "demo.json");

interface DemoState {
  readonly supervisor: number;
  hub?: number;
  containerd?: { pid: number; startTicks: number };
}

const say = (line = ""): void => {
  process.stdout.write(`${line}\n`);
};

/** One step: its title now, "done in …" when it ends. */
async function step<T>(title: string, work: () => Promise<T>): Promise<T> {
  process.stdout.write(`==> ${title} …\n`);
  const began = Date.now();
  const result = await work();
  say(`    done in ${seconds(Date.now() - began)}`);
  return result;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Runs bin/imageless with the demo's credentials; its stdout, or an error with its stderr. */
function imageless(args: readonly string[]): Promise<string> {
  say(`    $ imageless ${args.map((a) => (/[\s"]/.test(a) ? JSON.stringify(a) : a)).join(" ")}`);
  return new Promise((resolve, reject) => {
    const child = spawn(join(repoRoot(), "bin", "imageless"), args, {
      env: { ...process.env, XDG_CONFIG_HOME: join(DEMO_DIR, "config") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString());
      else
        reject(
          new Error(`imageless ${args.join(" ")} exited ${code}: ${Buffer.concat(err).toString().trim()}`),
        );
    });
  });
}

/** A Flox environment directory installing store paths, as `flox install` of store paths writes it. */
async function writeEnvironment(dir: string, packages: Record<string, StorePath>): Promise<void> {
  await mkdir(join(dir, ".flox", "env"), { recursive: true });
  const toml = [
    "version = 1",
    "[install]",
    ...Object.entries(packages).map(([id, path]) => `${id}.store-path = "${path}"`),
    "[options]",
    'systems = ["x86_64-linux"]',
    "",
  ].join("\n");
  await writeFile(join(dir, ".flox", "env", "manifest.toml"), toml);
}

/** `imageless pod run FILE --json`: the pod's start time. */
async function podRun(file: string): Promise<number> {
  const started = JSON.parse(await imageless(["pod", "run", join("examples", file), "--json"])) as {
    totalMs: number;
  };
  return started.totalMs;
}

/** GETs `url` until it answers 200 (the server may still be binding its port). */
async function answer(url: string): Promise<string> {
  const deadline = Date.now() + 30_000;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      const text = (await response.text()).trim();
      if (response.ok) return text;
      last = `HTTP ${response.status}: ${text}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(200);
  }
  throw new Error(`${url} did not answer within 30 s (${last}); see imageless pod logs quotes`);
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "0.0.0.0", () => server.close(() => resolve(true)));
  });
}

async function readState(): Promise<DemoState | undefined> {
  const text = await readFile(STATE_FILE, "utf8").catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as DemoState);
}

async function saveState(state: DemoState): Promise<void> {
  await writeFile(STATE_FILE, JSON.stringify(state));
}

async function run(): Promise<void> {
  const previous = await readState();
  if (previous !== undefined && isAlive(previous.supervisor)) {
    throw new Error(
      `a demo runs already (pid ${previous.supervisor}): stop it with bash scripts/demo.sh stop`,
    );
  }
  if (existsSync(DEMO_DIR)) await cleanUp(previous);
  for (const port of PORTS) {
    if (!(await portFree(port))) {
      throw new Error(`port ${port} is in use: the demo's pods listen on ${PORTS.join(", ")} (host network)`);
    }
  }
  await mkdir(DEMO_DIR, { recursive: true });
  const state: DemoState = { supervisor: process.pid };
  await saveState(state);

  let hub: HubProcess | undefined;
  let containerd: Containerd | undefined;
  // One stop, whoever asks first: a signal, or the error a signal causes in the step it interrupts
  // (which must wait for that stop to finish before the process exits).
  let stopping: Promise<void> | undefined;
  const stop = (why: string): Promise<void> => {
    stopping ??= stopEverything(why);
    return stopping;
  };
  const stopEverything = async (why: string): Promise<void> => {
    say(`\n==> stopping (${why}): pods, containerd, the hub …`);
    await containerd?.stop().catch((error: unknown) => say(`    containerd: ${(error as Error).message}`));
    await hub?.stop().catch((error: unknown) => say(`    hub: ${(error as Error).message}`));
    await killStragglers();
    await removeTree(DEMO_DIR);
    const left = await mountsUnder(DEMO_DIR);
    say(
      left.length === 0
        ? `    stopped: nothing left running or mounted under ${DEMO_DIR}`
        : `    still mounted: ${left.join(" ")}`,
    );
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      void stop(signal).finally(() => process.exit(0));
    });
  }

  try {
    say(
      `The demo keeps everything under ${DEMO_DIR}. Ctrl-C (or bash scripts/demo.sh stop) stops it and removes it all.\n`,
    );
    const packages = await step(
      "building the packages offline: busybox, Debian's Redis with its libraries (patchelf), quotes 1.0 and 2.0",
      () => buildDemoPackages(join(DEMO_DIR, "build")),
    );
    hub = await step("starting the hub (SQLite)", () =>
      startHubProcess({ dataDir: join(DEMO_DIR, "hub"), user: "demo" }),
    );
    state.hub = hub.pid;
    await saveState(state);
    say(`    the hub listens on ${hub.url} (web UI, API, git and binary cache)`);
    const tokenFile = join(DEMO_DIR, "token");
    await writeFile(tokenFile, hub.adminToken, { mode: 0o600 });
    await imageless(["auth", "login", "--hub", hub.url, "--token-file", tokenFile]);
    await rm(tokenFile);

    const envs = join(DEMO_DIR, "envs");
    await step(
      "pushing demo/redis and demo/quotes (generation 1) with their packages to the hub",
      async () => {
        await writeEnvironment(join(envs, "redis"), { redis: packages.redis, tools: packages.tools });
        await push(join(envs, "redis"), "demo/redis", packages);
        await writeEnvironment(join(envs, "quotes"), { quotes: packages.quotes1, tools: packages.tools });
        await push(join(envs, "quotes"), "demo/quotes", packages);
      },
    );
    const hubKey = (await imageless(["hub", "cache-key", "--data-dir", hub.dataDir])).trim();
    containerd = await step(
      "starting a private containerd whose flox runtime handler runs imageless-runc",
      () => startNode(hub?.url ?? "", hubKey),
    );
    state.containerd = { pid: containerd.pid, startTicks: containerd.startTicks };
    await saveState(state);

    const times: [string, string][] = [];
    const redisMs = await step(
      "starting Redis from examples/redis.yaml (packages fetched from the hub's cache)",
      () => podRun("redis.yaml"),
    );
    times.push(["redis, first start on this node (Redis fetched from the hub)", `${redisMs} ms`]);
    const quotesMs = await step("starting the quotes app from examples/quotes.yaml", () =>
      podRun("quotes.yaml"),
    );
    times.push(["quotes 1.0 (init container loads Redis, then the app)", `${quotesMs} ms`]);
    say(`    $ curl localhost:3000/quotes/0\n    ${await answer(QUOTES_URL)}`);

    const image = await step(
      "for comparison: the same Redis closure as an OCI image, imported and run with plain runc",
      () => imageStart(containerd as Containerd, packages),
    );
    times.push([
      `  the same bytes as an image (${(image.bytes / 1e6).toFixed(1)} MB, ${image.paths} store paths): ctr import`,
      `${image.importMs} ms`,
    ]);
    times.push(["  … then a plain runc pod start", `${image.startMs} ms`]);

    await step("update without an image: demo/quotes generation 2 installs quotes 2.0", async () => {
      await writeEnvironment(join(envs, "quotes"), { quotes: packages.quotes2, tools: packages.tools });
      await push(join(envs, "quotes"), "demo/quotes", packages);
    });
    const updateMs = await step("restarting the quotes pod: it runs the live generation", async () => {
      await imageless(["pod", "rm", "quotes"]);
      return podRun("quotes.yaml");
    });
    times.push(["quotes 2.0 after the update (only quotes-2.0 is new)", `${updateMs} ms`]);
    say(`    $ curl localhost:3000/quotes/0\n    ${await answer(QUOTES_URL)}`);

    const pinnedMs = await step(
      'a pinned pod keeps generation 1: examples/quotes-pinned.yaml says "demo/quotes:1"',
      () => podRun("quotes-pinned.yaml"),
    );
    times.push(["quotes-pinned (generation 1, already on this node)", `${pinnedMs} ms`]);
    say(`    $ curl localhost:3001/quotes/0\n    ${await answer(PINNED_URL)}`);

    const rollbackMs = await step(
      "rollback on the hub: generation 1 is live again, the next start runs it",
      async () => {
        say(`    ${(await imageless(["env", "rollback", "-r", "demo/quotes"])).trim()}`);
        await imageless(["pod", "rm", "quotes"]);
        return podRun("quotes.yaml");
      },
    );
    times.push(["quotes after the rollback (generation 1)", `${rollbackMs} ms`]);
    say(`    $ curl localhost:3000/quotes/0\n    ${await answer(QUOTES_URL)}`);

    say(
      "\nPod start times on this machine (CRI RunPodSandbox to the last StartContainer, measured just now):",
    );
    const width = Math.max(...times.map(([what]) => what.length));
    for (const [what, ms] of times) say(`  ${what.padEnd(width)}  ${ms.padStart(8)}`);
    say(
      "  (an image start: `ctr images import` of the same store paths as one layer, unpacked into a snapshot,\n" +
        "   then a runc pod start; neither side moves bytes over a network here: the hub is on this machine)",
    );
    say(`
demo ready: redis, quotes (live generation of demo/quotes) and quotes-pinned (demo/quotes:1) run.
Try, in another terminal:
  curl localhost:3000/quotes/0          # the live generation
  curl localhost:3001/quotes/2          # generation 1, pinned
  bin/imageless pod ls
  bin/imageless pod logs quotes
  bin/imageless pod exec redis -- redis-cli LRANGE quotes 0 -1
  XDG_CONFIG_HOME=${join(DEMO_DIR, "config")} bin/imageless env generations -r demo/quotes
  open ${hub.url} for the hub's web UI
Stop: Ctrl-C here, or bash scripts/demo.sh stop. Either leaves nothing running or mounted.`);
    await new Promise(() => {
      // Stay up for the user; the signal handlers stop and exit.
      setInterval(() => undefined, 60_000);
    });
  } catch (error) {
    if (stopping !== undefined) {
      // Interrupted: the step failed because its processes got the signal too; not worth a message.
      await stopping;
      process.exit(0);
    }
    await stop("an error");
    throw error;
  }
}

async function push(dir: string, ref: string, packages: DemoPackages): Promise<void> {
  const pushed = JSON.parse(
    await imageless([
      "env",
      "push",
      "-d",
      dir,
      "-r",
      ref,
      "--copy-paths",
      "--from-store",
      packages.storeUrl,
      "--json",
    ]),
  ) as { generation: number; copied?: number };
  say(
    `    ${ref}: generation ${pushed.generation}, ${pushed.copied ?? 0} store paths uploaded to the hub's cache`,
  );
  if (pushed.generation === 1) {
    // Public: the pods need no token. A private one would take a Secret volume (docs/pods.md).
    await imageless(["env", "visibility", "-r", ref, "public"]);
  }
}

/** The node: config (hub as git server and only cache, trusting only its key), containerd, empty image. */
async function startNode(hubUrl: string, hubKey: string): Promise<Containerd> {
  const configPath = join(DEMO_DIR, "node.toml");
  await writeFile(
    configPath,
    [
      "[floxhub]",
      `url = ${JSON.stringify(hubUrl)}`,
      `git-url = ${JSON.stringify(`${hubUrl}/git`)}`,
      "[nix]",
      `store-root = ${JSON.stringify(join(DEMO_DIR, "node-store"))}`,
      `substituters = [${JSON.stringify(`${hubUrl}/cache`)}]`,
      `trusted-public-keys = [${JSON.stringify(hubKey)}]`,
      "[runtime]",
      `state-dir = ${JSON.stringify(join(DEMO_DIR, "node-state"))}`,
      "[telemetry]",
      "enabled = false",
      "",
    ].join("\n"),
  );
  const containerd = await startContainerd({
    dir: join(DEMO_DIR, "containerd"),
    runtimes: { flox: { binaryName: join(repoRoot(), "bin", "imageless-runc") } },
    env: { IMAGELESS_CONFIG: configPath, XDG_CACHE_HOME: join(DEMO_DIR, "xdg-cache") },
  });
  await containerd.importImage(buildEmptyImage());
  say(`    containerd ${containerd.socket}, image ${EMPTY_IMAGE_REF}`);
  return containerd;
}

/** Packs the redis environment's closure as an image, imports it (timed) and starts it with runc (timed). */
async function imageStart(
  containerd: Containerd,
  packages: DemoPackages,
): Promise<{ bytes: number; paths: number; importMs: number; startMs: number }> {
  const ref = "localhost/imageless-demo/redis-closure:1";
  const image = await closureImage(packages.store, [packages.redis, packages.tools], ref);
  const t0 = Date.now();
  await containerd.importImage(image.tar);
  const importMs = Date.now() - t0;
  const cri = connectCri(containerd.socket);
  try {
    const pod = {
      name: "image-compare",
      namespace: "default",
      labels: {},
      annotations: {},
      initContainers: [],
      volumes: [],
      containers: [
        {
          name: "app",
          image: ref,
          command: [`${packages.redis}/bin/redis-cli`, "--version"],
          args: [],
          env: [],
          volumeMounts: [],
        },
      ],
    };
    const started = await runPodManifest(cri, pod, { logDir: join(DEMO_DIR, "pod-logs"), secretDirs: {} });
    const found = await findPod(cri, pod.name, pod.namespace);
    if (found !== undefined) await removePod(cri, found);
    say(`    ${(image.bytes / 1e6).toFixed(1)} MB in ${image.paths} store paths`);
    return { bytes: image.bytes, paths: image.paths, importMs, startMs: started.totalMs };
  } finally {
    cri.close();
  }
}

/**
 * The safety net after the recorded stops: a process whose command line names the demo's directory
 * is the demo's (containerd started just before an interrupt was recorded, its shims, the hub).
 * SIGTERM, then SIGKILL after 5 s. Only the programs the demo runs: a user's `tail -f` of a demo log lives.
 */
async function killStragglers(): Promise<void> {
  const pids: number[] = [];
  for (const entry of await readdir("/proc").catch(() => [])) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const argv = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    const args = argv.split("\0");
    const program = (args[0] ?? "").split("/").at(-1) ?? "";
    if (DEMO_PROGRAMS.test(program) && args.some((arg) => arg.includes(`${DEMO_DIR}/`)))
      pids.push(Number(entry));
  }
  const signal = (pid: number, name: NodeJS.Signals) => {
    try {
      process.kill(pid, name);
    } catch {
      // gone already
    }
  };
  for (const pid of pids) signal(pid, "SIGTERM");
  const deadline = Date.now() + 5_000;
  while (pids.some(isAlive) && Date.now() < deadline) await sleep(100);
  for (const pid of pids.filter(isAlive)) signal(pid, "SIGKILL");
}

/** Removes what a demo left when its process is gone: containerd and its pods, the hub, the dir. */
async function cleanUp(state: DemoState | undefined): Promise<void> {
  if (state?.containerd !== undefined) {
    await stopContainerdAt(join(DEMO_DIR, "containerd"), state.containerd.pid, state.containerd.startTicks);
  }
  if (state?.hub !== undefined && isAlive(state.hub)) {
    const cmdline = await readFile(`/proc/${state.hub}/cmdline`, "utf8").catch(() => "");
    if (cmdline.includes(join(DEMO_DIR, "hub"))) process.kill(state.hub, "SIGTERM");
  }
  await killStragglers();
  await removeTree(DEMO_DIR);
}

/** `stop`: asks the running demo to stop and waits; cleans up after one that died. */
async function stopRunning(): Promise<void> {
  const state = await readState();
  if (state === undefined && !existsSync(DEMO_DIR)) {
    say("no demo runs");
    return;
  }
  if (state !== undefined && isAlive(state.supervisor)) {
    say(`stopping the demo (pid ${state.supervisor}) …`);
    process.kill(state.supervisor, "SIGTERM");
    const deadline = Date.now() + 120_000;
    while (isAlive(state.supervisor) && Date.now() < deadline) await sleep(200);
  }
  if (existsSync(DEMO_DIR)) await cleanUp(state);
  const left = await mountsUnder(DEMO_DIR);
  if (left.length > 0) throw new Error(`still mounted: ${left.join(" ")}`);
  say(`stopped: nothing left running or mounted under ${DEMO_DIR}`);
}

async function main(): Promise<void> {
  try {
    if (process.argv[2] === "stop") await stopRunning();
    else await run();
  } catch (error) {
    process.stderr.write(`demo: ${(error as Error).message}\n`);
    process.exit(1);
  }
}

await main();
