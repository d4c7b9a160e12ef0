/**
 * Faults during `imageless-runc create`, run as containerd's shim runs it (with a named fake runc):
 * the wrapper SIGKILLed while Nix substitutes and while it holds the container's GC root, and a
 * corrupted NAR served by the cache. In each case the next start succeeds, uses nothing half-made,
 * and nothing of the failed start stays on the node.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import type { NixStore } from "../../src/nix/nix-store.js";
import { invalidPaths } from "../../src/nix/realise.js";
import type { StorePath } from "../../src/nix/store-path.js";
import { statePaths } from "../../src/node/container-state.js";
import { listCachedProfiles } from "../../src/node/status.js";
import { type BinaryCacheServer, serveBinaryCache } from "../harness/binary-cache-server.js";
import { helloGeneration } from "../harness/flox-envs.js";
import { writeFloxmeta } from "../harness/floxmeta-fixture.js";
import { buildFixturePackages, type Fixtures } from "../harness/nix-fixtures.js";
import { repoRoot } from "../harness/repo-root.js";
import { startCreate, writeBundle, writeNodeConfig } from "../harness/runtime-create.js";
import { makeTempDir, removeTree } from "../harness/temp.js";

const execFileP = promisify(execFile);
const ENV = { "flox.dev/environment": "acme/faults:1" };

let work: string;
let fixtures: Fixtures;
let slowCache: BinaryCacheServer;

before(async () => {
  work = await makeTempDir("faults");
  fixtures = await buildFixturePackages(join(work, "fixtures"));
  const { hello, coreutils } = fixtures.packages;
  await writeFloxmeta(join(work, "floxmeta"), "acme", [
    { name: "faults", generations: [helloGeneration({ hello, coreutils })] },
  ]);
  slowCache = await serveBinaryCache(fixtures.cacheDir, { narDelayMs: 1500 });
});

after(async () => {
  await slowCache?.close();
  await removeTree(work);
});

/** A node (config, store root, state dir) of its own under `work/<name>`. */
async function node(name: string, cacheUrl: string) {
  const dir = join(work, name);
  const store: NixStore = {
    storeRoot: join(dir, "store"),
    substituters: [cacheUrl],
    trustedPublicKeys: [fixtures.publicKey],
    requireSigs: true,
  };
  const stateDir = join(dir, "state");
  const configPath = join(dir, "config.toml");
  await writeBundle(join(dir, "scratch"), {});
  await writeNodeConfig(configPath, {
    storeRoot: store.storeRoot,
    stateDir,
    gitUrl: `file://${join(work, "floxmeta")}`,
    substituters: [cacheUrl],
    publicKey: fixtures.publicKey,
  });
  const create = async (id: string, env: Readonly<Record<string, string>> = {}) => {
    const bundle = join(dir, "bundles", id);
    await writeBundle(bundle, ENV);
    return { run: startCreate(configPath, bundle, id, env), bundle };
  };
  const finish = async (id: string) => {
    const { run, bundle } = await create(id);
    const { code } = await run.done;
    const log = await readFile(join(bundle, "log.json"), "utf8").catch(() => "");
    const spec = JSON.parse(await readFile(join(bundle, "config.json"), "utf8")) as {
      annotations?: Record<string, string>;
    };
    return {
      code,
      log,
      storePath: spec.annotations?.["flox.dev/resolved-store-path"] as StorePath | undefined,
    };
  };
  /** Every piece of node state that names `id`. */
  const leftovers = async (id: string) => {
    const paths = statePaths(stateDir, id);
    return [paths.claim, paths.gcRoot, paths.shellGcRoot, paths.envCache, paths.overlay, paths.record].filter(
      (path) => existsSync(path),
    );
  };
  return { dir, store, stateDir, create, finish, leftovers };
}

async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const narGets = (cache: BinaryCacheServer) =>
  [...cache.requests].filter(([path]) => path.startsWith("/nar/")).reduce((sum, [, n]) => sum + n, 0);

describe("a create killed with SIGKILL", () => {
  it("during realisation: the next start succeeds with a valid profile", async () => {
    const n = await node("kill-realise", slowCache.url);
    const before = narGets(slowCache);
    const { run } = await n.create("killed");
    await until(() => narGets(slowCache) > before, "the first nar request");
    run.child.kill("SIGKILL");
    assert.equal((await run.done).signal, "SIGKILL");
    const next = await n.finish("next");
    assert.equal(next.code, 0, next.log);
    assert.ok(next.storePath !== undefined);
    assert.deepEqual(await invalidPaths([next.storePath], n.store), [], "the profile it runs is valid");
    assert.deepEqual(await n.leftovers("killed"), []);
  });

  it("while holding its GC root: the next start sweeps what it left", async () => {
    const n = await node("kill-root", slowCache.url);
    // A first start puts the environment on the node, so the killed one gets to its GC root quickly.
    assert.equal((await n.finish("first")).code, 0);
    const { run } = await n.create("killed");
    const claim = statePaths(n.stateDir, "killed").claim;
    await until(() => existsSync(claim), "the claim of the create");
    run.child.kill("SIGKILL");
    await run.done;
    const next = await n.finish("next");
    assert.equal(next.code, 0, next.log);
    // Killed before its spec was written, the container can never run: nothing of it may stay. (Had
    // the kill landed after the spec write, its claim would be released and containerd would delete it.)
    const left = await n.leftovers("killed");
    assert.ok(
      left.length === 0 || !left.includes(claim),
      `state of the killed create stays: ${left.join(", ")}`,
    );
    if (!existsSync(statePaths(n.stateDir, "killed").record)) assert.deepEqual(left, []);
    assert.deepEqual(await readdir(statePaths(n.stateDir, "").claims), []);
  });
});

describe("a create killed with SIGKILL during the profile build", () => {
  it("leaves no profile in the cache, the next start builds it and sweeps the rest", async () => {
    const n = await node("kill-profile", fixtures.cacheUrl);
    // A named fake nix-build first on PATH: it says it runs (its pid) and blocks, so the create is
    // killed exactly while its profile is being built. nix-build runs only for the profile.
    const fakeBin = join(n.dir, "fake-bin");
    await mkdir(fakeBin, { recursive: true });
    const pidFile = join(n.dir, "fake-nix-build.pid");
    await writeFile(
      join(fakeBin, "nix-build"),
      `#!/bin/sh\n# fake nix-build (test): blocks until killed\necho $$ > ${JSON.stringify(`${pidFile}.tmp`)}\nmv ${JSON.stringify(`${pidFile}.tmp`)} ${JSON.stringify(pidFile)}\nexec sleep 600\n`,
      { mode: 0o755 },
    );
    const { run, bundle } = await n.create("killed", { PATH: `${fakeBin}:${process.env.PATH ?? ""}` });
    let fakePid: number | undefined;
    try {
      await until(() => existsSync(pidFile) || run.child.exitCode !== null, "the profile build");
      assert.ok(existsSync(pidFile), "the create reached its profile build");
      fakePid = Number(await readFile(pidFile, "utf8"));
      const original = await readFile(join(bundle, "config.json"), "utf8");
      run.child.kill("SIGKILL");
      assert.equal((await run.done).signal, "SIGKILL");
      assert.equal(await readFile(join(bundle, "config.json"), "utf8"), original, "the spec is untouched");
    } finally {
      run.child.kill("SIGKILL");
      if (fakePid !== undefined) {
        try {
          process.kill(fakePid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
    const profiles = join(n.stateDir, "profiles");
    assert.deepEqual(existsSync(profiles) ? await readdir(profiles) : [], [], "no profile recorded");
    const next = await n.finish("next");
    assert.equal(next.code, 0, next.log);
    assert.ok(next.storePath !== undefined);
    assert.deepEqual(await invalidPaths([next.storePath], n.store), [], "the profile it runs is valid");
    // Its profile record (and the probed facts of that profile), and nothing else.
    const records = await listCachedProfiles(n.stateDir);
    assert.deepEqual(
      records.map((r) => r.storePath),
      [next.storePath],
    );
    assert.deepEqual(
      (await readdir(profiles)).sort(),
      [records[0]?.key ?? "", `${next.storePath.slice("/nix/store/".length)}.facts.json`].sort(),
    );
    assert.deepEqual(await n.leftovers("killed"), []);
    assert.deepEqual(await readdir(statePaths(n.stateDir, "").claims), []);
  });
});

describe("a create killed with SIGKILL during its spec write", () => {
  // A named fake fault (test/fixtures/kill-on-rename.c, LD_PRELOAD): it kills the wrapper at the one
  // rename onto the bundle's config.json, just before or just after it; a timed kill would race a
  // write of microseconds.
  let killOnRename: string;
  before(async () => {
    killOnRename = join(work, "kill-on-rename.so");
    const source = join(repoRoot(), "test", "fixtures", "kill-on-rename.c");
    await execFileP("gcc", ["-shared", "-fPIC", "-Wall", "-Werror", "-o", killOnRename, source, "-ldl"]);
  });

  for (const when of ["before", "after"] as const) {
    it(`${when} the rename onto config.json: the spec is whole, the next start works, the sweep clears`, async () => {
      const n = await node(`kill-spec-${when}`, fixtures.cacheUrl);
      const reference = join(n.dir, "reference");
      await writeBundle(reference, ENV);
      const original = await readFile(join(reference, "config.json"), "utf8");
      const configJson = join(n.dir, "bundles", "killed", "config.json");
      const { run } = await n.create("killed", {
        LD_PRELOAD: killOnRename,
        KILL_ON_RENAME_TO: configJson,
        KILL_ON_RENAME_WHEN: when,
      });
      const killed = await run.done;
      assert.equal(killed.signal, "SIGKILL", killed.stderr);
      const left = await readFile(configJson, "utf8");
      if (when === "before") {
        assert.equal(left, original, "the original spec, untouched");
      } else {
        // The complete edited spec: it parses and names the profile the start built.
        const spec = JSON.parse(left) as { annotations?: Record<string, string> };
        const profile = spec.annotations?.["flox.dev/resolved-store-path"] as StorePath | undefined;
        assert.ok(profile !== undefined, left);
        assert.deepEqual(await invalidPaths([profile], n.store), []);
      }
      // The killed create held its claim and GC roots; the next create sweeps them.
      assert.ok(existsSync(statePaths(n.stateDir, "killed").claim), "the kill landed while claimed");
      const next = await n.finish("next");
      assert.equal(next.code, 0, next.log);
      assert.ok(next.storePath !== undefined);
      assert.deepEqual(await invalidPaths([next.storePath], n.store), []);
      // The profile the killed create built was whole (remembered only once built and rooted).
      assert.deepEqual(
        (await listCachedProfiles(n.stateDir)).map((r) => r.storePath),
        [next.storePath],
      );
      assert.deepEqual(await n.leftovers("killed"), []);
      assert.deepEqual(await readdir(statePaths(n.stateDir, "").claims), []);
    });
  }
});

describe("the hub's cache stopped between resolving and realising", () => {
  it("fails the start in one line naming the cache, leaves nothing, and works once it is back", async () => {
    // The environment resolves from the floxmeta (git); the cache dies at the first request Nix
    // makes to substitute, so the start has resolved and then finds the cache gone.
    const dying = await serveBinaryCache(fixtures.cacheDir, { dieAtFirstRequest: true });
    let back: BinaryCacheServer | undefined;
    try {
      const n = await node("hub-down", dying.url);
      const failed = await n.finish("down");
      assert.notEqual(failed.code, 0);
      assert.ok(dying.requests.size > 0, "the start resolved and reached the cache, which died");
      const last = JSON.parse(failed.log.trim().split("\n").at(-1) ?? "{}") as { msg?: string };
      const cache = dying.url.replace(/[.]/g, "\\.");
      assert.match(
        last.msg ?? "",
        new RegExp(
          `^imageless: substituting '/nix/store/[a-z0-9]{32}-[^']+'(, '[^']+')*: cannot reach the binary cache \\(${cache}/[^)]+\\): check \\[nix\\] substituters and the node's network$`,
        ),
      );
      assert.deepEqual(await n.leftovers("down"), []);
      assert.deepEqual(await listCachedProfiles(n.stateDir), []);
      assert.deepEqual(await readdir(statePaths(n.stateDir, "").claims).catch(() => []), []);
      // The cache is back at the same address: the next start works. (Should another process have
      // taken the port meanwhile, the node is pointed at the cache's new address instead.)
      const port = Number(new URL(dying.url).port);
      back = await serveBinaryCache(fixtures.cacheDir, { port }).catch(() => undefined);
      back ??= await serveBinaryCache(fixtures.cacheDir);
      const again = back.url === dying.url ? n : await node("hub-down", back.url);
      const next = await again.finish("next");
      assert.equal(next.code, 0, next.log);
      assert.ok(next.storePath !== undefined);
      assert.deepEqual(await invalidPaths([next.storePath], n.store), []);
    } finally {
      await dying.close();
      await back?.close();
    }
  });
});

describe("a corrupted NAR served by the cache", () => {
  it("fails the start clearly, and the next start from a good cache works", async () => {
    const badDir = join(work, "bad-cache");
    await cp(fixtures.cacheDir, badDir, { recursive: true });
    // Flip bytes in the middle of every nar: same size, wrong content.
    for (const nar of await readdir(join(badDir, "nar"))) {
      const file = join(badDir, "nar", nar);
      const bytes = await readFile(file);
      for (
        let i = Math.floor(bytes.length / 2);
        i < Math.min(bytes.length, Math.floor(bytes.length / 2) + 64);
        i++
      )
        bytes[i] = (bytes[i] ?? 0) ^ 0xff;
      await writeFile(file, bytes);
    }
    const bad = await serveBinaryCache(badDir);
    try {
      const n = await node("corrupt", bad.url);
      const failed = await n.finish("bad");
      assert.notEqual(failed.code, 0);
      const lines = failed.log.trim().split("\n");
      const last = JSON.parse(lines.at(-1) ?? "{}") as { msg?: string };
      assert.match(
        last.msg ?? "",
        /^imageless: substituting \/nix\/store\/[a-z0-9]{32}-[^:]+: the binary cache http:\/\/127\.0\.0\.1:\d+ served a NAR whose hash does not match its narinfo, so Nix refused it \(nothing was stored\): the cache's copy is corrupt; repair or re-upload it$/,
      );
      assert.deepEqual(await n.leftovers("bad"), []);
      // The same node, now pointed at the good cache.
      const good = await node("corrupt", fixtures.cacheUrl);
      const next = await good.finish("good");
      assert.equal(next.code, 0, next.log);
      assert.ok(next.storePath !== undefined);
      assert.deepEqual(await invalidPaths([next.storePath], good.store), []);
    } finally {
      await bad.close();
    }
  });
});

describe("a full disk under the state directory", () => {
  it("fails the start in one line, and once there is room the next start works", async () => {
    const n = await node("disk-full", fixtures.cacheUrl);
    await mkdir(n.stateDir, { recursive: true });
    await execFileP("mount", ["-t", "tmpfs", "-o", "size=2m", "imageless-test-full", n.stateDir]);
    try {
      // A first start puts the floxmeta on the node; the next ones fail later, writing their state.
      assert.equal((await n.finish("before")).code, 0);
      // Fill it: what is left is less than any start needs.
      await writeFile(join(n.stateDir, "filler"), Buffer.alloc(2 * 1024 * 1024)).catch(() => undefined);
      const failed = await n.finish("full");
      assert.notEqual(failed.code, 0);
      const last = JSON.parse(failed.log.trim().split("\n").at(-1) ?? "{}") as { msg?: string };
      assert.match(
        last.msg ?? "",
        /^imageless: no space left on the node's disk.*: free space under \[runtime\] state-dir and \[nix\] store-root, then start the pod again/,
      );
      assert.ok(!(last.msg ?? "").includes("\n"));
      await rm(join(n.stateDir, "filler"));
      const next = await n.finish("next");
      assert.equal(next.code, 0, next.log);
      assert.ok(next.storePath !== undefined);
      assert.deepEqual(await n.leftovers("full"), []);
    } finally {
      await execFileP("umount", ["-l", n.stateDir]).catch(() => undefined);
    }
  });
});
