/**
 * Figure 6: disk used by 10 environments that share a base and differ by one small package each,
 * against 10 images of the same content. Bytes on disk (`du -s -B1`, which counts a hard link once):
 * the node's Nix store root after one container of each environment started, against what pulling
 * the 10 images added to containerd's root (content store + overlayfs snapshots + metadata).
 *
 * Images as a plain Dockerfile per application builds them: one layer holding everything the app
 * installs (`RUN install base-packages app`), so layers are byte-identical, hence shared, only
 * between images built FROM the same base image. That best case (a shared base image + an app
 * layer each) is reported too.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { closureLayer } from "../demo/closure-image.js";
import type { StorePath } from "../src/nix/store-path.js";
import { type CompressedLayer, compressLayer, pushImage } from "../test/harness/registry.js";
import type { ImageCompareContext } from "./cold-start.js";
import { sleeper } from "./cri-start.js";
import { type Row, summarise } from "./results.js";

const run = promisify(execFile);

/** Bytes on disk under `dir` (0 when absent), hard links counted once. */
export async function diskBytes(dir: string): Promise<number> {
  const { stdout } = await run("du", ["-s", "-B1", dir]).catch(() => ({ stdout: "0" }));
  const bytes = Number.parseInt(stdout, 10);
  if (!Number.isFinite(bytes)) throw new Error(`du -s -B1 ${dir} printed no size: ${stdout}`);
  return bytes;
}

/** Pushes the environments and both kinds of images, then measures on one fresh node; the figure's rows (MB). */
export async function diskRows(ctx: ImageCompareContext): Promise<Row[]> {
  const { coreutils } = ctx.fixtures.packages;
  const base: Record<string, StorePath> = { coreutils };
  ctx.packages.base.forEach((path, index) => {
    base[`hostlibs${index + 1}`] = path;
  });
  const store = ctx.fixtures.buildStore;
  const envs: string[] = [];
  const single: string[] = [];
  const layered: string[] = [];
  const push = async (repository: string, layers: CompressedLayer[]): Promise<string> => {
    await pushImage(ctx.registry.url, repository, "1", { layers, config: { env: ["PATH=/bin"] } });
    return `${ctx.registry.host}/${repository}:1`;
  };
  const baseLayer = await compressLayer((await closureLayer(store, Object.values(base))).layer);
  for (const [index, app] of ctx.packages.distinct.entries()) {
    const name = `disk-${index + 1}`;
    envs.push(await ctx.hub.push(name, { ...base, app }));
    const whole = await closureLayer(store, [...Object.values(base), app]);
    single.push(await push(`bench/${name}-single`, [await compressLayer(whole.layer)]));
    const top = await closureLayer(store, [app]);
    layered.push(await push(`bench/${name}-layered`, [baseLayer, await compressLayer(top.layer)]));
  }

  const node = await ctx.hub.startNode();
  try {
    const storeBefore = await diskBytes(node.storeRoot);
    for (const [index, env] of envs.entries()) {
      const started = await sleeper(node, env, `disk-flox-${index}`);
      await started.remove();
    }
    const flox = (await diskBytes(node.storeRoot)) - storeBefore;
    const pulled = async (refs: readonly string[]): Promise<number> => {
      const before = await diskBytes(node.containerd.root);
      for (const ref of refs) await node.containerd.pullPlainHttp(ref);
      return (await diskBytes(node.containerd.root)) - before;
    };
    const singleMb = summarise([(await pulled(single)) / 1e6]);
    const layeredMb = summarise([(await pulled(layered)) / 1e6]);
    const floxMb = summarise([flox / 1e6]);
    const group = `disk, ${envs.length} environments sharing a base`;
    return [
      {
        group,
        unit: "MB",
        what: "images, one layer each (baseline: a Dockerfile per app)",
        stats: singleMb,
      },
      {
        group,
        unit: "MB",
        what: "flox: node Nix store",
        stats: floxMb,
        baseline: singleMb,
        target: 1 / 3,
      },
      { group, unit: "MB", what: "images, shared base image + app layer (baseline)", stats: layeredMb },
      {
        group,
        unit: "MB",
        what: "flox: node Nix store, vs shared-base images",
        stats: floxMb,
        baseline: layeredMb,
      },
    ];
  } finally {
    await node.stop();
  }
}
