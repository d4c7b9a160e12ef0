import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { resolveEnvironment } from "../../src/floxhub/resolve.js";
import { nullLogger } from "../../src/log/logger.js";
import { statePaths } from "../../src/node/container-state.js";
import type { BinaryCacheServer } from "./binary-cache-server.js";
import type { Fixtures } from "./nix-fixtures.js";
import { startCreate, writeBundle, writeNodeConfig } from "./runtime-create.js";

/** What {@link concurrentFirstStarts} saw. */
export interface ConcurrentStartsResult {
  readonly storeRoot: string;
  readonly runs: readonly { code: number | null; log: string; storePath: string | undefined }[];
  /** GETs per nar during this round (a fresh count: earlier rounds are subtracted). */
  readonly narRequests: ReadonlyMap<string, number>;
}

/**
 * `starts` `imageless-runc create` processes at once, one container each, of `env` on a fresh store
 * root and state directory under `dir`, substituting from `cache` only.
 */
export async function concurrentFirstStarts(opts: {
  dir: string;
  starts: number;
  cache: BinaryCacheServer;
  fixtures: Fixtures;
  gitUrl: string;
  env: string;
  /**
   * The node already holds the environment's floxmeta (another pod pulled it; the store root is still
   * fresh): the starts reach Nix together instead of one by one behind the git fetch lock.
   */
  warmGit?: boolean;
}): Promise<ConcurrentStartsResult> {
  await mkdir(opts.dir, { recursive: true });
  const storeRoot = join(opts.dir, "store");
  const configPath = join(opts.dir, "config.toml");
  await writeNodeConfig(configPath, {
    storeRoot,
    stateDir: join(opts.dir, "state"),
    gitUrl: opts.gitUrl,
    substituters: [opts.cache.url],
    publicKey: opts.fixtures.publicKey,
  });
  if (opts.warmGit === true) {
    const [owner = "", name = ""] = opts.env.split(":")[0]?.split("/") ?? [];
    await resolveEnvironment(
      { owner, name },
      {
        gitBase: opts.gitUrl,
        cacheDir: statePaths(join(opts.dir, "state"), "").floxmetaCache,
        log: nullLogger,
      },
    );
  }
  const before = new Map(opts.cache.requests);
  const bundles = Array.from({ length: opts.starts }, (_, i) => join(opts.dir, "bundles", `c${i}`));
  for (const bundle of bundles) await writeBundle(bundle, { "flox.dev/environment": opts.env });
  const runs = await Promise.all(
    bundles.map(async (bundle, i) => {
      const { code, stderr } = await startCreate(configPath, bundle, `race-${i}`).done;
      const log = await readFile(join(bundle, "log.json"), "utf8").catch(() => stderr);
      const spec = JSON.parse(await readFile(join(bundle, "config.json"), "utf8")) as {
        annotations?: Record<string, string>;
      };
      return { code, log, storePath: spec.annotations?.["flox.dev/resolved-store-path"] };
    }),
  );
  const narRequests = new Map<string, number>();
  for (const [path, count] of opts.cache.requests) {
    const fresh = count - (before.get(path) ?? 0);
    if (path.startsWith("/nar/") && fresh > 0) narRequests.set(path, fresh);
  }
  return { storeRoot, runs, narRequests };
}
