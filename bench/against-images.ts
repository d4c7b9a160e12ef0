/**
 * Figures 4 and 6 (cold start and disk against images), with what they share: packages made of this
 * machine's libraries in the fixtures' build store, a hub process they are pushed to, and a private
 * `docker-registry` the images are pushed to. Everything is stopped and removed before returning.
 */
import { join } from "node:path";
import type { Fixtures } from "../test/harness/nix-fixtures.js";
import { startRegistry } from "../test/harness/registry.js";
import { startBenchHub } from "./bench-hub.js";
import { coldStartRows } from "./cold-start.js";
import { diskRows } from "./disk.js";
import { addHostPackages } from "./host-packages.js";
import type { Row } from "./results.js";

/**
 * The rows of both figures. `envMegabytes` sizes the shared base (100 for the figures, ~5 for a smoke
 * run); each of the `diskEnvironments` (10 for the figure) adds a package of 1/50 of that.
 */
export async function imageComparisonRows(opts: {
  work: string;
  fixtures: Fixtures;
  rounds: number;
  envMegabytes: number;
  diskEnvironments: number;
  /** `cold-start`: figure 4 only (bench/run --only cold-start). */
  only?: "cold-start";
}): Promise<Row[]> {
  const baseBytes = opts.envMegabytes * 1e6;
  const packages = await addHostPackages(opts.fixtures.buildStore, join(opts.work, "host-packages"), {
    baseBytes,
    baseParts: 5,
    distinct: opts.diskEnvironments,
    distinctBytes: Math.max(baseBytes / 50, 50_000),
  });
  const hub = await startBenchHub(join(opts.work, "cli"), opts.fixtures);
  try {
    const registry = await startRegistry();
    try {
      const ctx = { hub, registry, fixtures: opts.fixtures, packages };
      const cold = await coldStartRows(ctx, opts.rounds);
      return opts.only === "cold-start" ? cold : [...cold, ...(await diskRows(ctx))];
    } finally {
      await registry.stop();
    }
  } finally {
    await hub.stop();
  }
}
