/**
 * Figure 4: cold start of an environment vs pulling an image of the same bytes. Each round starts a
 * fresh node (new containerd, empty Nix store root, the node agent running) and, in alternating order:
 *   - flox: CreateContainer + StartContainer of a container in the environment, which fetches the
 *     branch from the hub, substitutes the closure from the hub's zstd cache and builds the profile;
 *   - image: pull (containerd's pull + unpack from a local `docker-registry`, plain HTTP) +
 *     CreateContainer + StartContainer on the runc handler, of one gzip layer holding the same
 *     store paths as files (what `COPY`ing the closure into an image would ship).
 * Neither side moves bytes over a real network: hub and registry are loopback processes here.
 */
import { existsSync } from "node:fs";
import { copyFile } from "node:fs/promises";
import { join } from "node:path";
import { closureLayer } from "../demo/closure-image.js";
import type { StorePath } from "../src/nix/store-path.js";
import type { Fixtures } from "../test/harness/nix-fixtures.js";
import { compressLayer, pushImage, type Registry } from "../test/harness/registry.js";
import type { BenchHub } from "./bench-hub.js";
import { sleeper } from "./cri-start.js";
import type { HostPackages } from "./host-packages.js";
import { type Row, summarise } from "./results.js";

export interface ImageCompareContext {
  readonly hub: BenchHub;
  readonly registry: Registry;
  readonly fixtures: Fixtures;
  readonly packages: HostPackages;
}

/** The closure's size, for the figure's name. */
const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`;

/** Runs `rounds` alternating rounds and returns the figure's rows (pull is the baseline). */
export async function coldStartRows(ctx: ImageCompareContext, rounds: number): Promise<Row[]> {
  const { coreutils } = ctx.fixtures.packages;
  const installs: Record<string, StorePath> = { coreutils };
  ctx.packages.base.forEach((path, index) => {
    installs[`hostlibs${index + 1}`] = path;
  });
  const env = await ctx.hub.push("cold", installs);
  const layer = await closureLayer(ctx.fixtures.buildStore, Object.values(installs));
  await pushImage(ctx.registry.url, "bench/cold", "1", {
    layers: [await compressLayer(layer.layer)],
    config: { env: ["PATH=/bin"] },
  });
  const ref = `${ctx.registry.host}/bench/cold:1`;

  const flox: number[] = [];
  const image: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const node = await ctx.hub.startNode();
    try {
      const startFlox = async () => {
        const started = await sleeper(node, env, `cold-flox-${round}`);
        await started.remove();
        // The store root was empty: the start must have substituted the closure.
        for (const path of ctx.packages.base)
          if (!existsSync(join(node.storeRoot, path))) throw new Error(`cold start did not realise ${path}`);
        flox.push(started.startMs);
      };
      const startImage = async () => {
        const started = await sleeper(node, undefined, `cold-image-${round}`, {
          image: ref,
          command: [`${coreutils}/bin/sleep`, "600"],
          before: () => node.containerd.pullPlainHttp(ref),
        });
        await started.remove();
        image.push(started.startMs);
      };
      const order = round % 2 === 0 ? [startFlox, startImage] : [startImage, startFlox];
      for (const step of order) await step();
    } finally {
      // BENCH_KEEP_LOG=FILE keeps each round's runtime log as FILE.cold-N (`start.prepared` timings).
      const keepLog = process.env["BENCH_KEEP_LOG"];
      if (keepLog) await copyFile(node.runtimeLog, `${keepLog}.cold-${round}`).catch(() => {});
      await node.stop();
    }
  }
  const group = `cold start vs image pull, ${mb(layer.bytes)} in ${layer.paths} store paths`;
  const pull = summarise(image);
  return [
    { group, what: "image pull (local registry, gzip) + create + start (baseline)", stats: pull },
    {
      group,
      what: "flox: create + start, closure from the hub's zstd cache",
      stats: summarise(flox),
      baseline: pull,
      target: 0.5,
    },
  ];
}
