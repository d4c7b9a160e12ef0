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
import { existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { DEMO_DIR } from "../src/pod-runner/demo-paths.js";
import { type Containerd, isAlive } from "../test/harness/containerd.js";
import { type HubProcess, startHubProcess } from "../test/harness/hub.js";
import { writeStorePathEnv } from "../test/harness/store-path-env.js";
import { mountsUnder, removeTree } from "../test/harness/temp.js";
import { buildDemoPackages } from "./build-packages.js";
import { imageStart } from "./closure-image.js";
import { imageless, podRun, push } from "./demo-cli.js";
import { startNode } from "./demo-node.js";
import { cleanUp, type DemoState, killStragglers, readState, saveState, stopRunning } from "./demo-state.js";
import { say, step } from "./output.js";

const QUOTES_URL = "http://127.0.0.1:3000/quotes/0";
const PINNED_URL = "http://127.0.0.1:3001/quotes/0";
const PORTS = [3000, 3001, 6379];

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
        await writeStorePathEnv(join(envs, "redis"), { redis: packages.redis, tools: packages.tools });
        await push(join(envs, "redis"), "demo/redis", packages);
        await writeStorePathEnv(join(envs, "quotes"), { quotes: packages.quotes1, tools: packages.tools });
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
      await writeStorePathEnv(join(envs, "quotes"), { quotes: packages.quotes2, tools: packages.tools });
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
