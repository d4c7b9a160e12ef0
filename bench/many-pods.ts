/**
 * Figure 5: `pods` pods of one environment the node has never seen, all at once, through CRI with the
 * node agent running, against the same number of plain runc pods (busybox image, already imported
 * on the node) on the same node in the same round. Each round is a fresh node (fresh store root,
 * state directory and containerd) substituting from one counting binary cache, so every round is a
 * true first use: the floxmeta fetch, the substitution of every store path and the profile build.
 *
 * Wall time runs from the first RunPodSandbox to the last StartContainer returning (all containers
 * running); downloads per path is the most GETs of one nar during the round's flox pods (must be 1).
 */
import { serveBinaryCache } from "../test/harness/binary-cache-server.js";
import { startFloxNode } from "../test/harness/flox-node.js";
import type { Fixtures } from "../test/harness/nix-fixtures.js";
import { failures, removeAll, type Sleeper, sleeper } from "./cri-start.js";
import { type Row, summarise } from "./results.js";

export interface ManyPodsOptions {
  readonly fixtures: Fixtures;
  /** The git base the nodes resolve `env` from. */
  readonly gitUrl: string;
  /** An environment ref the fixtures' cache can realise (`acme/bench:1`). */
  readonly env: string;
  readonly pods: number;
  /** Fresh nodes, one per round. */
  readonly rounds: number;
}

/** One round's figures: wall times of both batches and the most GETs of one nar. */
interface Round {
  readonly runcMs: number;
  readonly floxMs: number;
  readonly maxNarGets: number;
}

export async function manyPods(opts: ManyPodsOptions): Promise<Row[]> {
  const cache = await serveBinaryCache(opts.fixtures.cacheDir);
  const rounds: Round[] = [];
  try {
    for (let round = 0; round < opts.rounds; round++) rounds.push(await oneRound(opts, cache, round));
  } finally {
    await cache.close();
  }
  const group = `${opts.pods} pods at once`;
  const runc = summarise(rounds.map((r) => r.runcMs));
  return [
    { group, what: "runc handler, busybox image present (baseline, wall time)", stats: runc },
    {
      group,
      what: "flox, uncached environment, agent running (wall time)",
      stats: summarise(rounds.map((r) => r.floxMs)),
      baseline: runc,
    },
    {
      group,
      what: "flox: most downloads of one store path",
      stats: summarise(rounds.map((r) => r.maxNarGets)),
      unit: "count",
      limit: 1,
    },
  ];
}

async function oneRound(
  opts: ManyPodsOptions,
  cache: Awaited<ReturnType<typeof serveBinaryCache>>,
  round: number,
): Promise<Round> {
  const node = await startFloxNode({
    gitUrl: opts.gitUrl,
    fixtures: opts.fixtures,
    substituter: cache.url,
    agent: true,
  });
  try {
    // Alternate which batch goes first, so neither always runs on the machine the other left behind.
    const batches = [
      ["runc", undefined],
      ["flox", opts.env],
    ] as const;
    const ms: Record<string, number> = {};
    let maxNarGets = 0;
    for (const [label, env] of round % 2 === 0 ? batches : [...batches].reverse()) {
      const before = new Map(cache.requests);
      ms[label] = await allAtOnce(opts.pods, (i) => sleeper(node, env, `many-${label}-${round}-${i}`));
      if (label === "flox") {
        maxNarGets = mostNarGets(before, cache.requests);
        // No nar fetched would mean the environment was not uncached: the figure would be meaningless.
        if (maxNarGets === 0) throw new Error(`many pods: round ${round} fetched no nar from the cache`);
      }
    }
    return { runcMs: ms["runc"] ?? Number.NaN, floxMs: ms["flox"] ?? Number.NaN, maxNarGets };
  } finally {
    await node.stop();
  }
}

/**
 * Starts `count` sleepers at once and returns the wall time until all are running; removes them
 * all afterwards, and throws (after removing the ones that started) when any failed.
 */
async function allAtOnce(count: number, start: (i: number) => Promise<Sleeper>): Promise<number> {
  const started = performance.now();
  const results = await Promise.allSettled(Array.from({ length: count }, (_, i) => start(i)));
  const wall = performance.now() - started;
  await removeAll(results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : [])));
  const failed = failures(results);
  if (failed.length > 0) throw new Error(`${failed.length} of ${count} pods did not start: ${failed[0]}`);
  return wall;
}

/** The most GETs of one nar since `before` (a copy of the cache's counters). Pure. */
export function mostNarGets(before: ReadonlyMap<string, number>, now: ReadonlyMap<string, number>): number {
  let most = 0;
  for (const [path, count] of now)
    if (path.startsWith("/nar/")) most = Math.max(most, count - (before.get(path) ?? 0));
  return most;
}
