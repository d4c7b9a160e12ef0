/**
 * Container start latency: CreateContainer + StartContainer of one container, through CRI on a private
 * containerd, on the plain `runc` handler (busybox image) and on the `flox` handler (empty image +
 * environment already realised on the node: the steady state), alternating so both see the same
 * machine noise. Also one cold start (fresh node store) for scale. Prints medians and the ratio.
 *
 * The `flox` starts alternate `[runtime] mount = "store"` and `"closure"` (one bind per closure path).
 *
 *   node dist/bench/container-start.js [pairs=15]
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { helloGeneration } from "../test/harness/flox-envs.js";
import { EMPTY_IMAGE_REF, FLOX_HANDLER, type FloxNode, startFloxNode } from "../test/harness/flox-node.js";
import { writeFloxmeta } from "../test/harness/floxmeta-fixture.js";
import { BUSYBOX_IMAGE_REF } from "../test/harness/images.js";
import { buildFixturePackages } from "../test/harness/nix-fixtures.js";
import { setConfigKeys } from "../test/harness/node-config-edit.js";
import { sandboxConfig } from "../test/harness/pod.js";
import { makeTempDir, removeTree } from "../test/harness/temp.js";

const pairs = Number(process.argv[2] ?? 15);

/** Milliseconds for CreateContainer + StartContainer of a sleeping container in a fresh pod. */
async function startOnce(node: FloxNode, handler: string, flox: boolean, name: string): Promise<number> {
  const config = sandboxConfig({
    name,
    logDir: node.logDir,
    annotations: flox ? { "flox.dev/environment": "acme/bench:1" } : {},
  });
  const podId = await node.cri.runPodSandbox({ config, runtimeHandler: handler });
  try {
    const started = performance.now();
    const id = await node.cri.createContainer({
      podSandboxId: podId,
      sandboxConfig: config,
      config: {
        metadata: { name: "app", attempt: 0 },
        image: { image: flox ? EMPTY_IMAGE_REF : BUSYBOX_IMAGE_REF },
        command: ["sleep", "600"],
        logPath: "app/0.log",
      },
    });
    await node.cri.startContainer(id);
    return performance.now() - started;
  } finally {
    await node.cri.stopPodSandbox(podId);
    await node.cri.removePodSandbox(podId);
  }
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};

async function main(): Promise<void> {
  const work = await makeTempDir("bench");
  let node: FloxNode | undefined;
  try {
    const fixtures = await buildFixturePackages(join(work, "fixtures"));
    const { hello, coreutils } = fixtures.packages;
    await writeFloxmeta(join(work, "floxmeta"), "acme", [
      {
        name: "bench",
        generations: [helloGeneration({ hello, coreutils })],
      },
    ]);
    node = await startFloxNode({ gitUrl: `file://${join(work, "floxmeta")}`, fixtures });
    const cold = await startOnce(node, FLOX_HANDLER, true, "cold");
    const runc: number[] = [];
    const flox: number[] = [];
    const closure: number[] = [];
    // The closure mount's per-container skeleton and closure file are made on the first start.
    await setConfigKeys(node.configPath, "runtime", { mount: "closure" });
    await startOnce(node, FLOX_HANDLER, true, "closure-warm");
    for (let i = 0; i < pairs; i++) {
      runc.push(await startOnce(node, "runc", false, `runc-${i}`));
      await setConfigKeys(node.configPath, "runtime", { mount: "store" });
      flox.push(await startOnce(node, FLOX_HANDLER, true, `flox-${i}`));
      await setConfigKeys(node.configPath, "runtime", { mount: "closure" });
      closure.push(await startOnce(node, FLOX_HANDLER, true, `closure-${i}`));
    }
    const r = median(runc);
    const f = median(flox);
    const c = median(closure);
    process.stdout.write(
      [
        `pairs: ${pairs}`,
        `runc handler, busybox image:               median ${r.toFixed(0)} ms (min ${Math.min(...runc).toFixed(0)}, max ${Math.max(...runc).toFixed(0)})`,
        `flox handler, empty image, env on node:    median ${f.toFixed(0)} ms (min ${Math.min(...flox).toFixed(0)}, max ${Math.max(...flox).toFixed(0)})`,
        `flox handler, mount = "closure":           median ${c.toFixed(0)} ms (min ${Math.min(...closure).toFixed(0)}, max ${Math.max(...closure).toFixed(0)})`,
        `ratio flox/runc: ${(f / r).toFixed(2)}; closure/store mount: ${(c / f).toFixed(2)}`,
        `flox handler, cold (fetch, substitute, build): ${cold.toFixed(0)} ms`,
        "",
      ].join("\n"),
    );
    if (process.env["BENCH_SHOW_LOG"]) process.stdout.write(await readFile(node.runtimeLog, "utf8"));
  } finally {
    await node?.stop();
    await removeTree(work);
  }
}

await main();
