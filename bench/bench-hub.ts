/**
 * A hub process for the image comparisons, with the CLI logged in as its admin: environments are
 * pushed as a user would (`imageless env push --copy-paths`, the closures uploaded to the hub's zstd
 * cache) and made public, and a node is configured as the hub-to-pod e2e test configures it (the hub
 * as git server and only binary cache, trusting only its key).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { writeEnvironment } from "../demo/demo-cli.js";
import type { StorePath } from "../src/nix/store-path.js";
import type { FloxNodeOptions } from "../test/harness/flox-node.js";
import { type HubProcess, startHubProcess } from "../test/harness/hub.js";
import type { Fixtures } from "../test/harness/nix-fixtures.js";
import { repoRoot } from "../test/harness/repo-root.js";
import { runProgram } from "../test/harness/run-program.js";

export interface BenchHub {
  readonly hub: HubProcess;
  /** The admin's handle: environments are `<handle>/<name>`. */
  readonly handle: string;
  /** Pushes a public environment installing `packages` (closures copied from `fromStore`); its ref. */
  push(name: string, packages: Record<string, StorePath>): Promise<string>;
  /** The options of a node that resolves and substitutes only from this hub. */
  nodeOptions(fixtures: Fixtures): FloxNodeOptions;
  stop(): Promise<void>;
}

/** Starts the hub, logs the CLI in (config under `work`), reads the cache key. */
export async function startBenchHub(work: string, fromStore: string): Promise<BenchHub> {
  const hub = await startHubProcess();
  try {
    const env = {
      PATH: process.env["PATH"] ?? "/usr/bin:/bin",
      HOME: work,
      XDG_CONFIG_HOME: join(work, "config"),
    };
    const cli = async (args: readonly string[]): Promise<string> => {
      const run = await runProgram(join(repoRoot(), "bin", "imageless"), args, { env });
      if (run.code !== 0) throw new Error(`imageless ${args.join(" ")} exited ${run.code}: ${run.stderr}`);
      return run.stdout;
    };
    await mkdir(work, { recursive: true });
    const tokenFile = join(work, "token");
    await writeFile(tokenFile, hub.adminToken, { mode: 0o600 });
    const login = await cli(["auth", "login", "--hub", hub.url, "--token-file", tokenFile]);
    const handle = /as (\S+) /.exec(login)?.[1];
    if (handle === undefined) throw new Error(`imageless auth login named no account: ${login}`);
    const hubKey = (await cli(["hub", "cache-key", "--data-dir", hub.dataDir])).trim();
    return {
      hub,
      handle,
      async push(name, packages) {
        const dir = join(work, "envs", name);
        const ref = `${handle}/${name}`;
        await writeEnvironment(dir, packages);
        await cli(["env", "push", "-d", dir, "-r", ref, "--copy-paths", "--from-store", fromStore, "--json"]);
        await cli(["env", "visibility", "-r", ref, "public"]);
        return ref;
      },
      nodeOptions: (fixtures) => ({
        gitUrl: `${hub.url}/git`,
        cacheUrl: `${hub.url}/cache`,
        fixtures: { ...fixtures, publicKey: hubKey },
        agent: true,
      }),
      stop: () => hub.stop(),
    };
  } catch (error) {
    await hub.stop();
    throw error;
  }
}
