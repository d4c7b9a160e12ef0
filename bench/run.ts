/**
 * `bench/run`: the start path against plain runc, measured in one run on one private containerd, and
 * written to bench/RESULTS.md. Every figure is a ratio against its baseline measured in the same
 * phase, alternating, so both see the same machine noise:
 *   - warm start (CreateContainer + StartContainer), flox pinned / unpinned vs the runc handler,
 *     with the node agent stopped (in-process Node) and running;
 *   - pass-through runc calls through bin/imageless-runc vs runc itself;
 *   - ExecSync in a Flox container vs in a plain one, agent stopped and running;
 *   - one cold start (for scale) and the closure mount vs the store mount (mount-modes.ts);
 *   - N pods of an uncached environment at once vs N runc pods, and downloads per path (many-pods.ts);
 *   - the node agent's memory idle and with M running Flox containers (agent-memory.ts);
 *   - cold start of a ~100 MB environment vs pulling an image of the same bytes, and the disk used
 *     by 10 environments vs 10 images (against-images.ts);
 *   - the hub's lookups (info/refs, API) under load vs a 404 baseline (hub-lookups.ts).
 * Every container is started through cri-start.ts. The environment comes from this project's hub
 * git routes (in this process, public environment), so the live-generation check is answered as the
 * hub answers it.
 *
 *   bench/run [--iterations N] [--pods N] [--containers M] [--env-mb MB] [--disk-envs N] [--out FILE]
 *   bench/run --only cold-start [--iterations N] [--env-mb MB] [--out FILE]
 *     figure 4 alone (no main node, no other figure): prints its table, and writes it only to --out.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { copyFile, writeFile } from "node:fs/promises";
import { cpus, loadavg, release, totalmem } from "node:os";
import { join } from "node:path";
import { registerGitRoutes } from "../src/hub/git/git-service.js";
import { nullLogger } from "../src/log/logger.js";
import { helloGeneration } from "../test/harness/flox-envs.js";
import { type FloxNode, startFloxNode } from "../test/harness/flox-node.js";
import { writeFloxmeta } from "../test/harness/floxmeta-fixture.js";
import {
  InMemoryHubAccess,
  inMemoryServices,
  startTestHub,
  type TestHub,
} from "../test/harness/in-memory-hub.js";
import { buildFixturePackages } from "../test/harness/nix-fixtures.js";
import { startAgentProcess } from "../test/harness/node-agent-process.js";
import { repoRoot } from "../test/harness/repo-root.js";
import { makeTempDir, removeTree } from "../test/harness/temp.js";
import { imageComparisonRows } from "./against-images.js";
import { agentMemory } from "./agent-memory.js";
import { alternate, sleeper, startOnce } from "./cri-start.js";
import { hubLookupRows } from "./hub-lookups.js";
import { manyPods } from "./many-pods.js";
import { mountModes } from "./mount-modes.js";
import { type Row, renderResults, summarise } from "./results.js";

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at >= 0 ? (process.argv[at + 1] ?? fallback) : fallback;
}
const iterations = Number(option("--iterations", "15"));
/** Figure 5's pods started at once, and figure 7's running containers (the smoke test passes fewer). */
const pods = Number(option("--pods", "20"));
const containers = Number(option("--containers", "50"));
/** Figure 5 needs a fresh node per round, so it takes fewer rounds than the other figures. */
const scaleRounds = Math.min(iterations, 3);
const out = option("--out", join(repoRoot(), "bench", "RESULTS.md"));
/** A whole number ≥ 1 given as `name`, or one clear line naming it. */
function count(name: string, fallback: string): number {
  const value = option(name, fallback);
  if (!/^[1-9]\d*$/.test(value))
    throw new Error(`${name} ${JSON.stringify(value)}: accepted is a whole number ≥ 1`);
  return Number(value);
}
/** Figures 4 and 6: the environment's size (MB) and how many share a base; the smoke test asks for less. */
const envMegabytes = count("--env-mb", "100");
const diskEnvironments = count("--disk-envs", "10");
const coldRounds = Math.min(iterations, 5);
/** `--only cold-start`: figure 4 alone, for working on the cold start. */
const only = option("--only", "");
if (only !== "" && only !== "cold-start")
  throw new Error(`--only ${JSON.stringify(only)}: accepted is cold-start`);

async function execOnce(node: FloxNode, container: string): Promise<number> {
  const started = performance.now();
  const result = await node.cri.execSync(container, ["sh", "-c", ":"], 20);
  if (result.exitCode !== 0)
    throw new Error(`exec sh -c : exited ${result.exitCode}: ${result.stderr.toString()}`);
  return performance.now() - started;
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

function machineLines(extra: string): string[] {
  const cpu = cpus();
  return [
    `${cpu.length} × ${cpu[0]?.model ?? "?"}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Linux ${release()}`,
    `load average at the end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
    extra,
  ];
}

/** Figure 4 alone: fixtures, host packages, hub, registry, `coldRounds` alternating rounds. */
async function coldStartOnly(): Promise<void> {
  const work = await makeTempDir("bench");
  try {
    const fixtures = await buildFixturePackages(join(work, "fixtures"));
    const rows = await imageComparisonRows({
      work,
      fixtures,
      rounds: coldRounds,
      envMegabytes,
      diskEnvironments: 1,
      only: "cold-start",
    });
    const text = renderResults({
      date: new Date(),
      machine: machineLines(`${coldRounds} cold-start round(s) of a ${envMegabytes} MB environment`),
      rows,
    });
    process.stdout.write(text);
    if (process.argv.includes("--out")) await writeFile(out, text);
  } finally {
    await removeTree(work);
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
    // Cold start once (a row, for scale), so every measured start is the steady state.
    const coldMs = await startOnce(flox, "acme/bench:1", "cold");

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
      if (phase === "agent stopped")
        rows.push({
          group: "cold start",
          what: "flox, first start on the node, agent stopped",
          stats: summarise([coldMs]),
          baseline: base,
        });
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
      if (phase === "agent running")
        rows.push(...(await mountModes({ node: flox, env: "acme/bench:1", iterations, phase })));
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

    const scale = { fixtures, gitUrl: `${hub.url}/git`, env: "acme/bench:1" };
    rows.push(...(await manyPods({ ...scale, pods, rounds: scaleRounds })));
    rows.push(...(await agentMemory({ ...scale, containers })));
    rows.push(
      ...(await imageComparisonRows({ work, fixtures, rounds: coldRounds, envMegabytes, diskEnvironments })),
    );

    // The hub's live-generation lookups under load (a hub process of its own): 2 s per figure in the
    // smoke run, 10 s otherwise.
    rows.push(...(await hubLookupRows({ seconds: iterations <= 1 ? 2 : 10, connections: 16 })));

    const machine = [
      ...machineLines(
        `node ${process.version}; ${version("containerd", ["--version"])}; ${version(runc, ["--version"])}; ${version("git", ["--version"])}`,
      ),
      `iterations: ${iterations} per start/exec figure, ${passRounds} per pass-through figure, ${scaleRounds} fresh node(s) for ${pods} pods at once, ${coldRounds} cold-start round(s) of a ${envMegabytes} MB environment`,
    ];
    await writeFile(out, renderResults({ date: new Date(), machine, rows }));
    process.stdout.write(`wrote ${out}\n`);
  } finally {
    // BENCH_KEEP_LOG=FILE keeps the runtime log (the agent's `agent.call` and `start.prepared` timings).
    const keepLog = process.env["BENCH_KEEP_LOG"];
    if (keepLog && node) await copyFile(node.runtimeLog, keepLog).catch(() => {});
    await node?.stop();
    await hub?.close();
    await removeTree(work);
  }
}

await (only === "cold-start" ? coldStartOnly() : main());
