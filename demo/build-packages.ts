/**
 * The demo's packages, built offline into a chroot store: busybox (the host's static one), Redis
 * (Debian's redis-server and redis-cli with their libraries, patchelf'd by importHostPrograms) and two
 * releases of the quotes app (demo/quotes/), from demo/packages.nix.
 */
import { chmod, copyFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { importHostPrograms } from "../src/nix/import-host-programs.js";
import { type NixStore, storeArgs } from "../src/nix/nix-store.js";
import { runNix } from "../src/nix/run-nix.js";
import { isStorePath, type StorePath } from "../src/nix/store-path.js";
import { repoRoot } from "../test/harness/repo-root.js";

/** Debian's redis-tools ships the server as redis-check-rdb; it runs as the server under any other name. */
const HOST_REDIS_SERVER = "/usr/bin/redis-check-rdb";
const HOST_REDIS_CLI = "/usr/bin/redis-cli";
const HOST_BUSYBOX = "/bin/busybox";

export interface DemoPackages {
  /** The chroot store holding them; `env push --from-store` reads from it. */
  readonly store: NixStore;
  /** `local?root=…`, the store URL of {@link store}. */
  readonly storeUrl: string;
  readonly redis: StorePath;
  readonly tools: StorePath;
  readonly quotes1: StorePath;
  readonly quotes2: StorePath;
}

/** Builds the packages under `dir` (a new chroot store there). */
export async function buildDemoPackages(dir: string): Promise<DemoPackages> {
  const store: NixStore = {
    storeRoot: join(dir, "store"),
    substituters: [],
    trustedPublicKeys: [],
    requireSigs: false,
  };
  const args = storeArgs(store);
  const sources = join(dir, "sources");
  await mkdir(join(sources, "busybox", "bin"), { recursive: true });
  await copyFile(HOST_BUSYBOX, join(sources, "busybox", "bin", "busybox"));
  await chmod(join(sources, "busybox", "bin", "busybox"), 0o755);
  const busybox = storePath(
    await runNix("nix-store", ["--add", join(sources, "busybox"), ...args], { action: "adding busybox" }),
  );
  const redis = await importHostPrograms({
    name: "redis",
    programs: { "redis-server": HOST_REDIS_SERVER, "redis-cli": HOST_REDIS_CLI },
    workDir: sources,
    storeArgs: args,
  });
  const attrs = ["redis", "tools", "quotes-1", "quotes-2"];
  const out = await runNix(
    "nix-build",
    [
      join(repoRoot(), "demo", "packages.nix"),
      "--no-out-link",
      ...["--argstr", "busyboxPath", busybox],
      ...["--argstr", "redisProgramsPath", redis.programs],
      ...["--argstr", "redisLibsPath", redis.libs],
      ...attrs.flatMap((attr) => ["-A", attr]),
      ...args,
    ],
    { action: "building the demo packages" },
  );
  const [redisPath, tools, quotes1, quotes2] = out
    .split("\n")
    .filter((l) => l !== "")
    .map(storePath);
  if (redisPath === undefined || tools === undefined || quotes1 === undefined || quotes2 === undefined) {
    throw new Error(`nix-build printed fewer paths than ${attrs.join(", ")}: ${out}`);
  }
  return { store, storeUrl: `local?root=${store.storeRoot}`, redis: redisPath, tools, quotes1, quotes2 };
}

function storePath(line: string): StorePath {
  const path = line.trim();
  if (!isStorePath(path)) throw new Error(`expected a store path from nix, got "${path}"`);
  return path;
}
