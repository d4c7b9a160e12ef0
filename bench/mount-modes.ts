/**
 * `[runtime] mount = "closure"` (one read-only bind per store path of the environment's closure)
 * against `mount = "store"` (all of /nix): warm starts of the same pinned environment, alternating,
 * the node config switched before each start. Both arms switch, so both pay the runtime's re-read of
 * a changed config (the agent rebuilds its context when the file changes); the fixture environment's
 * closure is a handful of paths, so this measures the closure mode's fixed costs (cached closure
 * list, skeleton directory) more than its per-path mounts.
 */
import type { FloxNode } from "../test/harness/flox-node.js";
import { setConfigKeys } from "../test/harness/node-config-edit.js";
import { alternate, startOnce } from "./cri-start.js";
import { type Row, summarise } from "./results.js";

/** `env` must already be on the node (a cold start done), so both arms are steady-state starts. */
export async function mountModes(opts: {
  node: FloxNode;
  env: string;
  iterations: number;
  /** Says which phase of bench/run this ran in (agent stopped or running). */
  phase: string;
}): Promise<Row[]> {
  const { node, env } = opts;
  const startIn = async (mount: "store" | "closure", name: string): Promise<number> => {
    await setConfigKeys(node.configPath, "runtime", { mount });
    return startOnce(node, env, name);
  };
  let n = 0;
  try {
    // The closure mode's per-environment closure list and skeleton are made by its first start.
    await startIn("closure", "closure-first");
    const s = await alternate(opts.iterations, [
      ["store", () => startIn("store", `mount-store-${n++}`)],
      ["closure", () => startIn("closure", `mount-closure-${n++}`)],
    ]);
    const store = summarise(s.get("store") ?? []);
    return [
      { group: "store mount", what: `flox pinned, mount = "store" (baseline, ${opts.phase})`, stats: store },
      {
        group: "store mount",
        what: `flox pinned, mount = "closure", ${opts.phase}`,
        stats: summarise(s.get("closure") ?? []),
        baseline: store,
      },
    ];
  } finally {
    await setConfigKeys(node.configPath, "runtime", { mount: "store" });
  }
}
