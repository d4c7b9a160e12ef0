import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFile, readlink, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isErrorKind } from "../../src/errors/imageless-error.js";
import { buildProfile } from "../../src/nix/build-profile.js";
import { queryClosure } from "../../src/nix/closure.js";
import { addGcRoot, removeGcRoot } from "../../src/nix/gc-roots.js";
import { type NixStore, realPath, storeArgs } from "../../src/nix/nix-store.js";
import { invalidPaths, realisePaths } from "../../src/nix/realise.js";
import { runNix } from "../../src/nix/run-nix.js";
import { ensureStoreReady } from "../../src/nix/store-init.js";
import type { StorePath } from "../../src/nix/store-path.js";
import { serveBinaryCache } from "../harness/binary-cache-server.js";
import { buildFixturePackages, type Fixtures } from "../harness/nix-fixtures.js";
import { makeTempDir, removeTree } from "../harness/temp.js";

let work: string;
let fx: Fixtures;
let storeCount = 0;

/** A fresh, empty chroot store substituting from the fixtures' signed file:// cache. */
function freshStore(overrides: Partial<NixStore> = {}): NixStore {
  storeCount++;
  return {
    storeRoot: join(work, `store-${storeCount}`),
    substituters: [fx.cacheUrl],
    trustedPublicKeys: [fx.publicKey],
    requireSigs: true,
    ...overrides,
  };
}

async function collectGarbage(store: NixStore): Promise<void> {
  await runNix("nix-store", ["--gc", ...storeArgs(store)], { action: "collecting garbage" });
}

before(async () => {
  work = await makeTempDir("nix");
  const started = Date.now();
  fx = await buildFixturePackages(join(work, "fixtures"));
  process.stderr.write(`# fixtures built in ${Date.now() - started} ms\n`);
});
after(() => removeTree(work));

describe("realisePaths()", () => {
  it("substitutes a path and its closure from a signed cache into an empty store", async () => {
    const store = freshStore();
    const { substituted } = await realisePaths([fx.packages.hello], store);
    assert.deepEqual([...substituted].sort(), [fx.packages.busybox, fx.packages.hello].sort());
    const hello = await readFile(join(realPath(store, fx.packages.hello), "bin/hello"), "utf8");
    assert.match(hello, /Hello, world!/);
    assert.deepEqual(await invalidPaths([fx.packages.hello, fx.packages.busybox], store), []);
  });

  it("is a no-op when everything is valid, without contacting any substituter", async () => {
    const store = freshStore();
    await realisePaths([fx.packages.hello], store);
    // A second call through a counting cache must send it no request at all (cost is bench/'s matter).
    const counting = await serveBinaryCache(fx.cacheDir);
    try {
      const second = { ...store, substituters: [counting.url] };
      assert.deepEqual(await realisePaths([fx.packages.hello], second), { substituted: [] });
      assert.deepEqual([...counting.requests.entries()], []);
    } finally {
      await counting.close();
    }
  });

  it("refuses an unsigned path when signatures are required", async () => {
    const store = freshStore();
    await assert.rejects(realisePaths([fx.packages.unsigned], store), (error: unknown) => {
      assert.ok(isErrorKind(error, "failed-precondition"), String(error));
      assert.match(error.message, /unsigned or signed by a key not in trusted-public-keys/);
      assert.match(error.message, /require-sigs/);
      assert.ok(error.message.includes(fx.packages.unsigned));
      return true;
    });
    assert.deepEqual(await invalidPaths([fx.packages.unsigned], store), [fx.packages.unsigned]);
  });

  it("refuses a path signed with a key that is not trusted", async () => {
    const store = freshStore({ trustedPublicKeys: ["other-1:lQfK7rkkwvTADsT02m96oriaMPbRx6KwrM9ufLekrA4="] });
    await assert.rejects(realisePaths([fx.packages.greeting], store), (error: unknown) => {
      assert.ok(isErrorKind(error, "failed-precondition"), String(error));
      assert.match(error.message, /trusted-public-keys \(other-1:/);
      return true;
    });
  });

  it("accepts unsigned paths when signatures are not required", async () => {
    const store = freshStore({ trustedPublicKeys: [], requireSigs: false });
    const { substituted } = await realisePaths([fx.packages.unsigned], store);
    assert.ok(substituted.includes(fx.packages.unsigned));
  });

  it("names the missing path and the substituters when no cache has it", async () => {
    const store = freshStore();
    const missing = "/nix/store/00000000000000000000000000000000-not-there" as StorePath;
    await assert.rejects(realisePaths([missing, fx.packages.hello], store), (error: unknown) => {
      assert.ok(isErrorKind(error, "not-found"), String(error));
      assert.equal(error.message, `store path '${missing}' not found in any substituter (${fx.cacheUrl})`);
      return true;
    });
  });

  it("says the cache cannot be reached when it is down (kind unavailable)", async () => {
    const store = freshStore({ substituters: ["http://127.0.0.1:9"] });
    await assert.rejects(realisePaths([fx.packages.hello], store), (error: unknown) => {
      assert.ok(isErrorKind(error, "unavailable"), String(error));
      assert.match(
        error.message,
        /cannot reach the binary cache \(http:\/\/127\.0\.0\.1:9\/nix-cache-info\)/,
      );
      return true;
    });
  });

  it("downloads each nar once when two processes realise the same paths", async () => {
    const cache = await serveBinaryCache(fx.cacheDir, { narDelayMs: 400 });
    try {
      const store = freshStore({ substituters: [cache.url] });
      // As the node does (node-deps.ts): two Nix processes creating one fresh store's database race
      // ("database is busy"); initialising is ensureStoreReady's job, downloading once is Nix's.
      await ensureStoreReady(store);
      const paths = [fx.packages.hello, fx.packages.greeting, fx.packages.coreutils];
      const started = Date.now();
      const results = await Promise.all([realiseInChild(paths, store), realiseInChild(paths, store)]);
      process.stderr.write(`# two concurrent realisations took ${Date.now() - started} ms\n`);
      for (const result of results) assert.equal(result.code, 0, result.stderr);
      const nars = [...cache.requests].filter(([path]) => path.startsWith("/nar/"));
      assert.equal(nars.length, 4, JSON.stringify(nars)); // busybox, hello, greeting, coreutils
      for (const [path, count] of nars) assert.equal(count, 1, `${path} fetched ${count} times`);
      assert.deepEqual(await invalidPaths(paths, store), []);
    } finally {
      await cache.close();
    }
  });
});

describe("buildProfile()", () => {
  let store: NixStore;
  before(async () => {
    store = freshStore();
    await realisePaths(Object.values(fx.packages), freshStore({ ...store, requireSigs: false }));
  });

  it("links the lower priority number's file and keeps every package in the closure", async () => {
    const profile = await buildProfile(
      {
        name: "env-priority",
        packages: [
          { installId: "hello-other", priority: 6, paths: [fx.packages["hello-other"]] },
          { installId: "hello", priority: 5, paths: [fx.packages.hello] },
          { installId: "greeting", priority: 5, paths: [fx.packages.greeting] },
        ],
      },
      store,
    );
    const root = realPath(store, profile);
    assert.equal(await readlink(join(root, "bin/hello")), `${fx.packages.hello}/bin/hello`);
    assert.equal(await readlink(join(root, "bin/greet")), `${fx.packages.greeting}/bin/greet`);
    const closure = await queryClosure([profile], store);
    for (const pkg of [
      fx.packages.hello,
      fx.packages["hello-other"],
      fx.packages.greeting,
      fx.packages.busybox,
    ]) {
      assert.ok(closure.includes(pkg), `closure lacks ${pkg}`);
    }
  });

  it("refuses two packages providing the same file at equal priority", async () => {
    const input = {
      name: "env-conflict",
      packages: [
        { installId: "hello", priority: 5, paths: [fx.packages.hello] },
        { installId: "hello-other", priority: 5, paths: [fx.packages["hello-other"]] },
      ],
    };
    await assert.rejects(buildProfile(input, store), (error: unknown) => {
      assert.ok(isErrorKind(error, "invalid-input"), String(error));
      assert.equal(
        error.message,
        `packages 'hello' and 'hello-other' both provide bin/hello at priority 5: give one of them a lower "priority" in the manifest`,
      );
      return true;
    });
  });

  it("gives the same store path for the same input, quickly the second time", async () => {
    const input = {
      name: "env-same",
      packages: [
        { installId: "coreutils", priority: 5, paths: [fx.packages.coreutils] },
        { installId: "hello", priority: 5, paths: [fx.packages.hello] },
      ],
      extraFiles: { "activate.d/hook-on-activate": { content: "echo hi >&2\n", executable: true } },
    };
    let started = Date.now();
    const first = await buildProfile(input, store);
    const firstMs = Date.now() - started;
    started = Date.now();
    const second = await buildProfile({ ...input, packages: [...input.packages].reverse() }, store);
    process.stderr.write(`# profile build ${firstMs} ms, rebuild ${Date.now() - started} ms\n`);
    assert.equal(second, first);
    // The link's target is a logical /nix/store path; in a chroot store it resolves under the root.
    const hookDir = await readlink(join(realPath(store, first), "activate.d"));
    assert.match(hookDir, /^\/nix\/store\/[a-z0-9]{32}-env-same-files\/activate\.d$/);
    const hook = join(store.storeRoot, hookDir, "hook-on-activate");
    assert.equal(await readFile(hook, "utf8"), "echo hi >&2\n");
    assert.equal((await stat(hook)).mode & 0o111, 0o111);
    const other = await buildProfile({ ...input, extraFiles: {} }, store);
    assert.notEqual(other, first);
  });
});

describe("addGcRoot() / removeGcRoot()", () => {
  it("keeps a profile and its closure through nix-store --gc until the root is removed", async () => {
    const store = freshStore();
    await realisePaths([fx.packages.hello, fx.packages.greeting], store);
    const profile = await buildProfile(
      { name: "env-gc", packages: [{ installId: "hello", priority: 5, paths: [fx.packages.hello] }] },
      store,
    );
    const link = join(work, "gc-root-profile");
    await addGcRoot(profile, link, store);
    await collectGarbage(store);
    assert.deepEqual(await invalidPaths([profile, fx.packages.hello, fx.packages.busybox], store), []);
    assert.deepEqual(await invalidPaths([fx.packages.greeting], store), [fx.packages.greeting]);

    await removeGcRoot(link);
    await removeGcRoot(link); // a second removal is fine
    await collectGarbage(store);
    assert.deepEqual(
      (await invalidPaths([profile, fx.packages.hello, fx.packages.busybox], store)).sort(),
      [profile, fx.packages.hello, fx.packages.busybox].sort(),
    );
  });
});

/** Runs realisePaths in a separate Node process, as two container starts on one node would. */
function realiseInChild(
  paths: readonly StorePath[],
  store: NixStore,
): Promise<{ code: number | null; stderr: string }> {
  const module = new URL("../../src/nix/realise.js", import.meta.url).href;
  const code = `const { realisePaths } = await import(${JSON.stringify(module)});
await realisePaths(JSON.parse(process.argv[1]), JSON.parse(process.argv[2]));`;
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ["--input-type=module", "-e", code, JSON.stringify(paths), JSON.stringify(store)],
      {
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("close", (exitCode) => resolve({ code: exitCode, stderr }));
  });
}
