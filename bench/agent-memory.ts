/**
 * Figure 7: the node agent's memory, idle and with `containers` running Flox containers. A node of
 * its own with the agent running; one start first puts the environment on the node (so the agent
 * has loaded everything a start uses), then its pod is removed and the idle figures are read; then
 * `containers` host-network pods sleeping, started through CRI a few at a time within a time box,
 * and the figures are read again. Every pod this made is removed by its ID, also on failure.
 *
 * Read from /proc/<agent pid>/status: VmRSS (resident now) and VmHWM (the peak resident size since
 * the agent started, so it includes the first start's realisation and the burst of starts).
 */
import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { startFloxNode } from "../test/harness/flox-node.js";
import type { Fixtures } from "../test/harness/nix-fixtures.js";
import { failures, inPool, removeAll, sleeper, startOnce } from "./cri-start.js";
import { type Row, summarise } from "./results.js";

export interface AgentMemoryOptions {
  readonly fixtures: Fixtures;
  readonly gitUrl: string;
  readonly env: string;
  readonly containers: number;
}

/** Starts in flight at once: 2 shared cores, and containerd serialises much of a start anyway. */
const CONCURRENCY = 4;
/** How long the starts may take in all before the figure is given up (the machine is shared). */
const START_TIME_BOX_MS = 300_000;
/** The agent's budget with 50 containers, in MB (10^6 bytes). */
export const AGENT_RSS_LIMIT_MB = 150;

/** VmRSS and VmHWM of a /proc/<pid>/status text, in MB (its "kB" are KiB). Pure. */
export function memoryFromStatus(status: string): { rssMb: number; hwmMb: number } {
  const field = (name: string): number => {
    const kib = new RegExp(`^${name}:\\s+(\\d+) kB$`, "m").exec(status)?.[1];
    if (kib === undefined) throw new Error(`/proc status has no ${name} line`);
    return (Number(kib) * 1024) / 1e6;
  };
  return { rssMb: field("VmRSS"), hwmMb: field("VmHWM") };
}

async function memoryOf(pid: number): Promise<{ rssMb: number; hwmMb: number }> {
  return memoryFromStatus(await readFile(`/proc/${pid}/status`, "utf8"));
}

export async function agentMemory(opts: AgentMemoryOptions): Promise<Row[]> {
  const node = await startFloxNode({ gitUrl: opts.gitUrl, fixtures: opts.fixtures, agent: true });
  try {
    const pid = node.agent?.pid;
    if (pid === undefined) throw new Error("agent memory: the node's agent did not start");
    await startOnce(node, opts.env, "memory-first");
    await sleep(1000);
    const idle = await memoryOf(pid);

    const deadline = performance.now() + START_TIME_BOX_MS;
    const names = Array.from({ length: opts.containers }, (_, i) => `memory-${i}`);
    const results = await inPool(names, CONCURRENCY, (name) => sleeper(node, opts.env, name), deadline);
    const running = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    let loaded: { rssMb: number; hwmMb: number };
    try {
      const failed = failures(results);
      if (failed.length > 0)
        throw new Error(
          `agent memory: ${failed.length} of ${opts.containers} containers did not start: ${failed[0]}`,
        );
      await sleep(1000);
      loaded = await memoryOf(pid);
    } finally {
      await removeAll(running);
    }

    const group = "node agent memory";
    const idleRss = summarise([idle.rssMb]);
    const idleHwm = summarise([idle.hwmMb]);
    return [
      {
        group,
        what: "VmRSS idle (environment on the node, no containers; baseline)",
        stats: idleRss,
        unit: "MB",
      },
      { group, what: "VmHWM idle (peak since the agent started)", stats: idleHwm, unit: "MB" },
      {
        group,
        what: `VmRSS with ${opts.containers} running Flox containers`,
        stats: summarise([loaded.rssMb]),
        unit: "MB",
        baseline: idleRss,
        limit: AGENT_RSS_LIMIT_MB,
      },
      {
        group,
        what: `VmHWM with ${opts.containers} running Flox containers`,
        stats: summarise([loaded.hwmMb]),
        unit: "MB",
        baseline: idleHwm,
        limit: AGENT_RSS_LIMIT_MB,
      },
    ];
  } finally {
    await node.stop();
  }
}
