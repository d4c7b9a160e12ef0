/**
 * The hub's lookups under load, for bench/hub-refs.ts and bench/run: a hub process (SQLite) with one
 * pushed environment, then a bounded pool of kept-alive connections on loopback sending, one phase
 * after the other,
 *   - `GET /git/none`: answered 404 without work (the HTTP stack and this load generator alone);
 *   - `GET /git/<owner>/floxmeta/info/refs?service=git-upload-pack` with Basic `oauth:<token>`, the
 *     live-generation lookup every container start of an unpinned environment sends
 *     (src/floxhub/ref-advertisement-client.ts);
 *   - `GET /api/v1/environments/<owner>/<name>` with a Bearer token.
 * Each phase reports requests/s, latency percentiles and the CPU the hub and the generator spent per
 * request (the generator shares the machine: its cost says whether it is the bottleneck).
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { Agent, request } from "node:http";
import { join } from "node:path";
import { promisify } from "node:util";
import { floxmetaPath, writeFloxmeta } from "../test/harness/floxmeta-fixture.js";
import { type HubProcess, startHubProcess } from "../test/harness/hub.js";
import { makeTempDir, removeTree } from "../test/harness/temp.js";
import { type Row, type Stats, summarise } from "./results.js";

const run = promisify(execFile);

/** The target of issue 10: a cluster's container starts, answered by one hub on this machine. */
export const LOOKUP_TARGET = { perSecond: 2000, p99Ms: 50 } as const;

/** One phase's figures. */
export interface LoadResult {
  readonly label: string;
  readonly requests: number;
  readonly perSecond: number;
  readonly latency: Stats;
  readonly p99: number;
  /** Answers other than the expected status. */
  readonly errors: number;
  /** CPU ms the hub process spent per request (10 ms clock ticks over the whole phase). */
  readonly hubCpuMs: number;
  /** CPU ms this process (the load generator) spent per request. */
  readonly generatorCpuMs: number;
}

function get(url: URL, agent: Agent, authorization: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers: { authorization } }, (res) => {
      res.resume();
      res.once("end", () => resolve(res.statusCode ?? 0));
    });
    req.once("error", reject);
    req.end();
  });
}

/** User+system CPU of process `pid` in ms, from /proc (clock ticks of 10 ms). */
async function processCpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces) start after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** What one phase measured in one round. */
interface Sample {
  readonly latencies: number[];
  readonly errors: number;
  readonly seconds: number;
  readonly hubCpuMs: number;
  readonly generatorCpuMs: number;
}

/** `connections` workers sending `url` back to back for `seconds`, each on its kept-alive socket. */
async function load(
  hub: HubProcess,
  url: URL,
  agent: Agent,
  opts: { authorization: string; expect: number; seconds: number; connections: number },
): Promise<Sample> {
  const latencies: number[] = [];
  let errors = 0;
  const hubBefore = await processCpuMs(hub.pid);
  const ownBefore = process.cpuUsage();
  const started = performance.now();
  const deadline = started + opts.seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const sent = performance.now();
      const status = await get(url, agent, opts.authorization);
      latencies.push(performance.now() - sent);
      if (status !== opts.expect) errors++;
    }
  };
  await Promise.all(Array.from({ length: opts.connections }, worker));
  const seconds = (performance.now() - started) / 1000;
  const own = process.cpuUsage(ownBefore);
  const hubCpuMs = (await processCpuMs(hub.pid)) - hubBefore;
  return { latencies, errors, seconds, hubCpuMs, generatorCpuMs: (own.user + own.system) / 1000 };
}

/** The rounds of one phase as one result (pure). */
function combine(label: string, samples: readonly Sample[]): LoadResult {
  const latencies = samples.flatMap((s) => s.latencies);
  const sum = (f: (s: Sample) => number) => samples.reduce((total, s) => total + f(s), 0);
  const sorted = [...latencies].sort((a, b) => a - b);
  const n = Math.max(latencies.length, 1);
  return {
    label,
    requests: latencies.length,
    perSecond: latencies.length / sum((s) => s.seconds),
    latency: summarise(latencies),
    p99: sorted[Math.floor(sorted.length * 0.99)] ?? Number.NaN,
    errors: sum((s) => s.errors),
    hubCpuMs: sum((s) => s.hubCpuMs) / n,
    generatorCpuMs: sum((s) => s.generatorCpuMs) / n,
  };
}

/**
 * Starts a hub, pushes one environment, and loads the three paths in turn (`seconds` each).
 *
 * @example
 * const [baseline, refs, api] = await measureHubLookups({ seconds: 5, connections: 16 });
 */
export async function measureHubLookups(opts: {
  seconds: number;
  connections: number;
}): Promise<LoadResult[]> {
  const work = await makeTempDir("hub-lookups");
  const hub = await startHubProcess();
  try {
    const manifest = "version = 1\n\n[install]\n";
    const generation = {
      manifestToml: manifest,
      lock: { "lockfile-version": 1, manifest: {}, packages: [] },
    };
    await writeFloxmeta(join(work, "local"), "admin", [{ name: "bench", generations: [generation] }]);
    const host = new URL(hub.url).host;
    await run("git", [
      "--git-dir",
      floxmetaPath(join(work, "local"), "admin"),
      "push",
      "--quiet",
      `http://oauth:${hub.adminToken}@${host}/git/admin/floxmeta`,
      "bench",
    ]);
    const basic = `Basic ${Buffer.from(`oauth:${hub.adminToken}`).toString("base64")}`;
    const bearer = `Bearer ${hub.adminToken}`;
    const phases = [
      ["404 baseline", "/git/none", basic, 404],
      ["info/refs", "/git/admin/floxmeta/info/refs?service=git-upload-pack", basic, 200],
      ["GET /api/v1/environments/o/n", "/api/v1/environments/admin/bench", bearer, 200],
    ] as const;
    const agent = new Agent({ keepAlive: true, maxSockets: opts.connections });
    const samples = phases.map((): Sample[] => []);
    try {
      // Under load, untimed, until the hub and this process have compiled their hot paths (the first
      // second of a fresh hub ran several times slower).
      const warm = Math.min(1, opts.seconds / 3);
      for (const [, path, authorization, expect] of phases) {
        await load(hub, new URL(`${hub.url}${path}`), agent, {
          ...opts,
          authorization,
          expect,
          seconds: warm,
        });
      }
      // Alternating rounds, so every phase sees the same machine noise.
      const rounds = opts.seconds >= 3 ? 3 : 1;
      for (let round = 0; round < rounds; round++) {
        for (const [i, [, path, authorization, expect]] of phases.entries()) {
          const url = new URL(`${hub.url}${path}`);
          samples[i]?.push(
            await load(hub, url, agent, { ...opts, authorization, expect, seconds: opts.seconds / rounds }),
          );
        }
      }
    } finally {
      agent.destroy();
    }
    const results = phases.map(([label], i) => combine(label, samples[i] ?? []));
    return results;
  } finally {
    await hub.stop();
    await removeTree(work);
  }
}

/** One line per phase, for a terminal. */
export function describeLoad(r: LoadResult, connections: number): string {
  return `${r.label}: ${r.requests} requests over ${connections} connections: ${r.perSecond.toFixed(0)}/s, p50 ${r.latency.median.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, errors ${r.errors}; CPU per request: hub ${r.hubCpuMs.toFixed(3)} ms, generator ${r.generatorCpuMs.toFixed(3)} ms`;
}

/** Whether a lookup phase meets {@link LOOKUP_TARGET} (pure). */
export function meetsLookupTarget(r: LoadResult): boolean {
  return r.errors === 0 && r.perSecond >= LOOKUP_TARGET.perSecond && r.p99 < LOOKUP_TARGET.p99Ms;
}

/**
 * bench/run's rows: the 404 baseline, then the lookups with their latency ratio against it and the
 * rate and p99 against the target (in the target column).
 */
export async function hubLookupRows(opts: { seconds: number; connections: number }): Promise<Row[]> {
  const [baseline, ...lookups] = await measureHubLookups(opts);
  if (baseline === undefined) return [];
  const figures = (r: LoadResult) =>
    `${r.perSecond.toFixed(0)}/s, p99 ${r.p99.toFixed(1)} ms, hub CPU ${r.hubCpuMs.toFixed(2)} ms/request${r.errors > 0 ? `, ${r.errors} errors` : ""}`;
  const group = `hub lookups (${opts.connections} connections)`;
  return [
    {
      group,
      what: "404 baseline (the HTTP stack alone)",
      stats: baseline.latency,
      targetText: figures(baseline),
    },
    ...lookups.map((r) => ({
      group,
      what: r.label === "info/refs" ? "info/refs with a token (live generation)" : r.label,
      stats: r.latency,
      baseline: baseline.latency,
      targetText: `${figures(r)}; ≥ ${LOOKUP_TARGET.perSecond}/s, p99 < ${LOOKUP_TARGET.p99Ms} ms ${meetsLookupTarget(r) ? "met" : "missed"}`,
    })),
  ];
}
