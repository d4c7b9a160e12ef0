/**
 * `bench/run`: the start path against plain runc, measured in one run on one private containerd, and
 * written to bench/RESULTS.md. Every figure is a ratio against its baseline measured in the same
 * phase, alternating, so both see the same machine noise:
 *   - warm start (CreateContainer + StartContainer), flox pinned / unpinned vs the runc handler,
 *     with the node agent stopped (in-process Node) and running;
 *   - pass-through runc calls through bin/imageless-runc vs runc itself;
 *   - ExecSync in a Flox container vs in a plain one, agent stopped and running;
 *   - the hub's lookups (info/refs, API) under load vs a 404 baseline (bench/hub-lookups.ts).
 * The environment comes from this project's hub git routes (in this process, public environment), so
 * the live-generation check is answered as the hub answers it.
 *
 *   bench/run [--iterations N] [--out FILE]
 */
import { execFileSync, spawnSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { cpus, loadavg, release, totalmem } from "node:os";
import { join } from "node:path";
import { registerGitRoutes } from "../src/hub/git/git-service.js";
import { nullLogger } from "../src/log/logger.js";
import { helloGeneration } from "../test/harness/flox-envs.js";
import { EMPTY_IMAGE_REF, FLOX_HANDLER, type FloxNode, startFloxNode } from "../test/harness/flox-node.js";
import { writeFloxmeta } from "../test/harness/floxmeta-fixture.js";
import { BUSYBOX_IMAGE_REF } from "../test/harness/images.js";
import {
  InMemoryHubAccess,
  inMemoryServices,
  startTestHub,
  type TestHub,
} from "../test/harness/in-memory-hub.js";
import { buildFixturePackages } from "../test/harness/nix-fixtures.js";
import { startAgentProcess } from "../test/harness/node-agent-process.js";
import { sandboxConfig } from "../test/harness/pod.js";
import { repoRoot } from "../test/harness/repo-root.js";
import { makeTempDir, removeTree } from "../test/harness/temp.js";
import { hubLookupRows } from "./hub-lookups.js";
import { type Row, renderResults, summarise } from "./results.js";

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at >= 0 ? (process.argv[at + 1] ?? fallback) : fallback;
}
const iterations = Number(option("--iterations", "15"));
const out = option("--out", join(repoRoot(), "bench", "RESULTS.md"));

/** CreateContainer + StartContainer of a sleeping container in a fresh pod, in ms. */
/** Times CreateContainer+StartContainer of one sleeper (the warm-start figure) and removes its pod. */
async function startOnce(node: FloxNode, env: string | undefined, name: string): Promise<number> {
  const started = await sleeper(node, env, name);
  await started.remove();
  return started.startMs;
}

/**
 * A running sleeper: its own pod (the runc handler without an environment, else the flox one), its
 * container, how long CreateContainer+StartContainer took, and a cleanup. A failed start removes the pod.
 */
async function sleeper(node: FloxNode, env: string | undefined, name: string) {
  const config = sandboxConfig({
    name,
    logDir: node.logDir,
    annotations: env === undefined ? {} : { "flox.dev/environment": env },
  });
  const podId = await node.cri.runPodSandbox({
    config,
    runtimeHandler: env === undefined ? "runc" : FLOX_HANDLER,
  });
  const remove = async (): Promise<void> => {
    await node.cri.stopPodSandbox(podId);
    await node.cri.removePodSandbox(podId);
  };
  try {
    const started = performance.now();
    const id = await node.cri.createContainer({
      podSandboxId: podId,
      sandboxConfig: config,
      config: {
        metadata: { name: "app", attempt: 0 },
        image: { image: env === undefined ? BUSYBOX_IMAGE_REF : EMPTY_IMAGE_REF },
        command: ["sleep", "600"],
        logPath: "app/0.log",
      },
    });
    await node.cri.startContainer(id);
    return { id, startMs: performance.now() - started, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}

async function execOnce(node: FloxNode, container: string): Promise<number> {
  const started = performance.now();
  const result = await node.cri.execSync(container, ["sh", "-c", ":"], 20);
  if (result.exitCode !== 0)
    throw new Error(`exec sh -c : exited ${result.exitCode}: ${result.stderr.toString()}`);
  return performance.now() - started;
}

/** Runs each measurement once per round, in turn, and returns every sample by label. */
async function alternate(
  rounds: number,
  steps: readonly (readonly [string, () => Promise<number>])[],
): Promise<Map<string, number[]>> {
  const samples = new Map<string, number[]>(steps.map(([label]) => [label, []]));
  for (let i = 0; i < rounds; i++) {
    for (const [label, step] of steps) samples.get(label)?.push(await step());
  }
  return samples;
}

function spawnMs(program: string, args: readonly string[], env: NodeJS.ProcessEnv): number {
  const started = performance.now();
  spawnSync(program, args, { env, stdio: "ignore" });
  return performance.now() - started;
}

function version(program: string, args: readonly string[]): string {
  try {
    return execFileSync(program, args, { encoding: "utf8" }).split("\n")[0]?.trim() ?? "?";
  } catch {
    return "not found";
  }
}

async function main(): Promise<void> {
  const work = await makeTempDir("bench");
  let node: FloxNode | undefined;
  let hub: TestHub | undefined;
  const rows: Row[] = [];
  try {
    const fixtures = await buildFixturePackages(join(work, "fixtures"));
    const { hello, coreutils } = fixtures.packages;
    const dataDir = join(work, "hub");
    await writeFloxmeta(join(dataDir, "git"), "acme", [
      { name: "bench", generations: [helloGeneration({ hello, coreutils })] },
    ]);
    const access = new InMemoryHubAccess();
    access.environments.set("acme/bench", "public");
    hub = await startTestHub((app) => registerGitRoutes(app, inMemoryServices(dataDir, access), nullLogger));
    node = await startFloxNode({ gitUrl: `${hub.url}/git`, fixtures });
    const flox = node;
    // Cold start once, so every measured start is the steady state (environment on the node).
    await startOnce(flox, "acme/bench:1", "cold");

    let n = 0;
    const starts = () =>
      [
        ["runc", () => startOnce(flox, undefined, `runc-${n++}`)],
        ["pinned", () => startOnce(flox, "acme/bench:1", `pinned-${n++}`)],
        ["unpinned", () => startOnce(flox, "acme/bench", `unpinned-${n++}`)],
      ] as const;
    const execs = async (phase: string) => {
      const plain = await sleeper(flox, undefined, `exec-plain-${phase}`);
      const inEnv = await sleeper(flox, "acme/bench:1", `exec-flox-${phase}`);
      try {
        return await alternate(iterations, [
          ["plain", () => execOnce(flox, plain.id)],
          ["flox", () => execOnce(flox, inEnv.id)],
        ]);
      } finally {
        await plain.remove();
        await inEnv.remove();
      }
    };

    for (const phase of ["agent stopped", "agent running"] as const) {
      if (phase === "agent running") flox.agent = await startAgentProcess(flox.configPath);
      const s = await alternate(iterations, starts());
      const base = summarise(s.get("runc") ?? []);
      rows.push({ group: "warm start", what: `runc handler (baseline, ${phase})`, stats: base });
      rows.push({
        group: "warm start",
        what: `flox pinned, ${phase}`,
        stats: summarise(s.get("pinned") ?? []),
        baseline: base,
        target: 1.1,
      });
      rows.push({
        group: "warm start",
        what: `flox unpinned, ${phase}`,
        stats: summarise(s.get("unpinned") ?? []),
        baseline: base,
        target: 1.2,
      });
      const e = await execs(phase === "agent running" ? "on" : "off");
      const plain = summarise(e.get("plain") ?? []);
      rows.push({ group: "ExecSync `sh -c :`", what: `plain container (baseline, ${phase})`, stats: plain });
      rows.push({
        group: "ExecSync `sh -c :`",
        what: `Flox container, ${phase}`,
        stats: summarise(e.get("flox") ?? []),
        baseline: plain,
        target: 1.1,
      });
    }

    const runc = version("sh", ["-c", "command -v runc"]);
    const env = { ...process.env, IMAGELESS_CONFIG: flox.configPath };
    const wrapper = join(repoRoot(), "bin", "imageless-runc");
    const passRounds = Math.max(iterations * 10, 10);
    for (const [label, args] of [
      ["`--version`", ["--version"]],
      ["`state <missing>`", ["--root", join(flox.dir, "runc-root"), "state", "missing"]],
      ["`delete <unmodified>`", ["--root", join(flox.dir, "runc-root"), "delete", "missing"]],
    ] as const) {
      const s = await alternate(passRounds, [
        ["runc", async () => spawnMs(runc, args, env)],
        ["wrapper", async () => spawnMs(wrapper, args, env)],
      ]);
      const base = summarise(s.get("runc") ?? []);
      rows.push({ group: "pass-through", what: `runc ${label} (baseline)`, stats: base });
      rows.push({
        group: "pass-through",
        what: `imageless-runc ${label}`,
        stats: summarise(s.get("wrapper") ?? []),
        baseline: base,
        target: 1.25,
      });
    }

    // The hub's live-generation lookups under load (a hub process of its own): 2 s per figure in the
    // smoke run, 10 s otherwise.
    rows.push(...(await hubLookupRows({ seconds: iterations <= 1 ? 2 : 10, connections: 16 })));

    const cpu = cpus();
    const machine = [
      `${cpu.length} × ${cpu[0]?.model ?? "?"}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Linux ${release()}`,
      `load average at the end: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}`,
      `node ${process.version}; ${version("containerd", ["--version"])}; ${version(runc, ["--version"])}; ${version("git", ["--version"])}`,
      `iterations: ${iterations} per start/exec figure, ${passRounds} per pass-through figure`,
    ];
    await writeFile(out, renderResults({ date: new Date(), machine, rows }));
    process.stdout.write(`wrote ${out}\n`);
  } finally {
    await node?.stop();
    await hub?.close();
    await removeTree(work);
  }
}

await main();
