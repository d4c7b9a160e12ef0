/**
 * A hub process for the image comparisons, with the CLI logged in as its admin: environments are
 * pushed as a user would (`imageless env push --copy-paths`, the closures uploaded to the hub's zstd
 * cache) and made public, and nodes resolve and substitute only from that hub, with the node agent
 * running (test/harness/hub-cli.ts, as the hub-to-pod suites use it).
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { StorePath } from "../src/nix/store-path.js";
import type { FloxNode } from "../test/harness/flox-node.js";
import { type HubProcess, startHubProcess } from "../test/harness/hub.js";
import { cliUser, loginAsAdmin, pushEnv, startNodeOnHub } from "../test/harness/hub-cli.js";
import type { Fixtures } from "../test/harness/nix-fixtures.js";
import { writeStorePathEnv } from "../test/harness/store-path-env.js";

export interface BenchHub {
  readonly hub: HubProcess;
  /** Pushes a public environment installing `packages` (closures from the fixtures' build store); its ref. */
  push(name: string, packages: Readonly<Record<string, StorePath>>): Promise<string>;
  /** A fresh node (own containerd, empty store root, agent running) on this hub. */
  startNode(): Promise<FloxNode>;
  stop(): Promise<void>;
}

/** Starts the hub and logs the CLI in (its HOME under `work`). */
export async function startBenchHub(work: string, fixtures: Fixtures): Promise<BenchHub> {
  const hub = await startHubProcess();
  try {
    await mkdir(work, { recursive: true });
    const user = cliUser(work);
    const handle = await loginAsAdmin(user, hub);
    return {
      hub,
      async push(name, packages) {
        const dir = join(work, "envs", name);
        const ref = `${handle}/${name}`;
        await writeStorePathEnv(dir, packages);
        await pushEnv(user, dir, ref, fixtures);
        await user.ok(["env", "visibility", "-r", ref, "public"]);
        return ref;
      },
      startNode: () => startNodeOnHub(hub, fixtures, { agent: true }),
      stop: () => hub.stop(),
    };
  } catch (error) {
    await hub.stop();
    throw error;
  }
}
