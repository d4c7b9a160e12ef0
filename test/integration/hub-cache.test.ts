/**
 * The hub's binary cache with real Nix: `nix copy --to` uploads with a token, narinfo re-signed with
 * the hub's key, `nix-store --realise` (src/nix/realise.ts) substitutes into temp stores that trust
 * that key, and reads follow environment visibility (an environment pushed over the hub's git).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createPublicKey, verify } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isErrorKind } from "../../src/errors/imageless-error.js";
import { registerCacheRoutes } from "../../src/hub/binary-cache/cache-service.js";
import { narInfoFingerprint, parseNarInfo } from "../../src/hub/binary-cache/narinfo.js";
import { loadOrCreateSigningKey } from "../../src/hub/binary-cache/signing-key.js";
import { registerGitRoutes } from "../../src/hub/git-service.js";
import { createLogger } from "../../src/log/logger.js";
import { type NixStore, storeArgs } from "../../src/nix/nix-store.js";
import { invalidPaths, type RealiseResult, realisePaths } from "../../src/nix/realise.js";
import { runNix } from "../../src/nix/run-nix.js";
import type { StorePath } from "../../src/nix/store-path.js";
import { floxmetaPath, writeFloxmeta } from "../harness/floxmeta-fixture.js";
import { type HubProcess, startHubProcess } from "../harness/hub.js";
import { InMemoryHubAccess, inMemoryServices, startTestHub, type TestHub } from "../harness/in-memory-hub.js";
import { buildFixturePackages, type Fixtures, lockEntry } from "../harness/nix-fixtures.js";
import { repoRoot } from "../harness/repo-root.js";
import { makeTempDir, removeTree } from "../harness/temp.js";

let work: string;
let fx: Fixtures;
let hub: TestHub;
let access: InMemoryHubAccess;
let dataDir: string;
let hubKey: string;
const tokens: Record<string, string> = {};
const logLines: string[] = [];
let storeCount = 0;

/** A netrc file giving `token` as Basic oauth:<token> for 127.0.0.1 (what a node would write). */
async function netrc(token: string | undefined): Promise<string | undefined> {
  if (token === undefined) return undefined;
  const path = join(work, `netrc-${storeCount++}`);
  await writeFile(path, `machine 127.0.0.1\nlogin oauth\npassword ${token}\n`, { mode: 0o600 });
  return path;
}

/**
 * Realises `paths` into `store` as a node would, with `netrcFile` giving the token (the node passes it
 * as `--option netrc-file`). Nix keeps fetched narinfo in a disk cache under XDG_CACHE_HOME; each call
 * is a separate node unless it names the cache of an earlier one.
 */
async function realiseAs(
  netrcFile: string | undefined,
  paths: StorePath[],
  store: NixStore,
  narinfoCache = `node-${storeCount++}`,
): Promise<RealiseResult> {
  process.env["XDG_CACHE_HOME"] = join(work, "xdg", narinfoCache);
  try {
    return await realisePaths(paths, netrcFile === undefined ? store : { ...store, netrcFile });
  } finally {
    delete process.env["XDG_CACHE_HOME"];
  }
}

function hubStore(trustedPublicKeys: string[] = [hubKey], base = hub.url): NixStore {
  storeCount++;
  return {
    storeRoot: join(work, `store-${storeCount}`),
    substituters: [`${base}/cache`],
    trustedPublicKeys,
    requireSigs: true,
  };
}

async function upload(paths: StorePath[], token: string | undefined, base = hub.url): Promise<void> {
  const file = await netrc(token);
  await runNix(
    "nix",
    [
      "--extra-experimental-features",
      "nix-command",
      "copy",
      "--to",
      `${base}/cache?compression=zstd`,
      ...(file === undefined ? [] : ["--option", "netrc-file", file]),
      ...paths,
      ...storeArgs(fx.buildStore),
    ],
    // nix copy records what it uploaded in its narinfo disk cache (with the uploader's signatures);
    // a separate one keeps the realisations below asking the hub.
    { action: "uploading to the hub", env: { ...process.env, XDG_CACHE_HOME: join(work, "uploader-cache") } },
  );
}

/** Pushes environment `owner/name` whose one generation locks `paths`, through the hub's git. */
async function pushEnvironment(
  owner: string,
  name: string,
  paths: StorePath[],
  to: { base: string; token: string | undefined } = { base: hub.url, token: tokens[owner] },
): Promise<void> {
  const root = join(work, "floxmeta", `${owner}-${name}-${storeCount++}`);
  const lock = {
    "lockfile-version": 1,
    manifest: {
      version: 1,
      install: Object.fromEntries(paths.map((_, i) => [`p${i}`, { "pkg-path": `p${i}` }])),
    },
    packages: paths.map((path, i) => lockEntry(`p${i}`, path)),
  };
  await writeFloxmeta(root, owner, [{ name, generations: [{ manifestToml: "version = 1\n", lock }] }]);
  const url = `http://oauth:${to.token}@${new URL(to.base).host}/git/${owner}/floxmeta`;
  await new Promise<void>((resolve, reject) =>
    execFile(
      "git",
      ["--git-dir", floxmetaPath(root, owner), "push", url, name],
      { env: { PATH: process.env["PATH"] ?? "", GIT_CONFIG_GLOBAL: "/dev/null", GIT_TERMINAL_PROMPT: "0" } },
      (error, _out, stderr) => (error === null ? resolve() : reject(new Error(stderr))),
    ),
  );
}

async function get(path: string, token?: string, method = "GET"): Promise<Response> {
  const headers: Record<string, string> =
    token === undefined ? {} : { authorization: `Basic ${Buffer.from(`oauth:${token}`).toString("base64")}` };
  return fetch(`${hub.url}/cache/${path}`, { method, headers });
}

before(async () => {
  work = await makeTempDir("hub-cache");
  fx = await buildFixturePackages(join(work, "fixtures"));
  access = new InMemoryHubAccess();
  for (const user of ["alice", "bob"]) tokens[user] = access.addUser(user);
  dataDir = join(work, "data");
  const services = inMemoryServices(dataDir, access);
  const log = createLogger((line) => logLines.push(line));
  hub = await startTestHub((app) => {
    registerGitRoutes(app, services, log);
    registerCacheRoutes(app, services, log);
  });
  hubKey = (await loadOrCreateSigningKey(dataDir)).publicKey;
});
after(async () => {
  await hub?.close();
  await removeTree(work);
});

describe("registerCacheRoutes()", () => {
  it("answers nix-cache-info to anyone", async () => {
    const res = await get("nix-cache-info");
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 30\n");
  });

  it("refuses an upload without a token", async () => {
    await assert.rejects(upload([fx.packages.hello], undefined), /401|Unauthorized|HTTP error/i);
    const res = await fetch(`${hub.url}/cache/nar/${"0".repeat(52)}.nar.zst`, { method: "PUT", body: "x" });
    assert.equal(res.status, 401);
    assert.match(String(res.headers.get("www-authenticate")), /^Basic /);
  });

  it("stores what nix copy uploads, re-signed with the hub's key only", async () => {
    const started = Date.now();
    await upload([fx.packages.hello, fx.packages.unsigned], tokens["alice"]);
    process.stderr.write(
      `# nix copy of hello + busybox + unsigned to the hub took ${Date.now() - started} ms\n`,
    );
    const hash = fx.packages.hello.slice("/nix/store/".length, "/nix/store/".length + 32);
    const info = parseNarInfo(await readFile(join(dataDir, "cache", `${hash}.narinfo`), "utf8"), "stored");
    assert.equal(info.signatures.length, 1);
    const [name, signature = ""] = (info.signatures[0] ?? "").split(":");
    assert.equal(name, "imageless-hub-1");
    const publicKey = createPublicKey({
      key: {
        kty: "OKP",
        crv: "Ed25519",
        x: Buffer.from(hubKey.split(":")[1] ?? "", "base64").toString("base64url"),
      },
      format: "jwk",
    });
    assert.ok(
      verify(null, Buffer.from(narInfoFingerprint(info)), publicKey, Buffer.from(signature, "base64")),
    );
    assert.match(narInfoFingerprint(info), new RegExp(`;${fx.packages.busybox.replace(/[.+]/g, "\\$&")}$`));
  });

  it("serves nothing that no environment locks, not even to the uploader", async () => {
    const hash = fx.packages.hello.slice("/nix/store/".length, "/nix/store/".length + 32);
    assert.equal((await get(`${hash}.narinfo`, tokens["alice"])).status, 404);
    const store = hubStore();
    await assert.rejects(
      realiseAs(await netrc(tokens["alice"]), [fx.packages.hello], store),
      (error: unknown) => isErrorKind(error, "not-found"),
    );
  });

  it("substitutes a private environment's closure for its owner and nobody else", async () => {
    await pushEnvironment("alice", "web", [fx.packages.hello]);
    const own = hubStore();
    const started = Date.now();
    const { substituted } = await realiseAs(await netrc(tokens["alice"]), [fx.packages.hello], own);
    process.stderr.write(`# realise of hello (+busybox) from the hub took ${Date.now() - started} ms\n`);
    assert.deepEqual([...substituted].sort(), [fx.packages.busybox, fx.packages.hello].sort());
    assert.deepEqual(await invalidPaths([fx.packages.hello, fx.packages.busybox], own), []);

    for (const token of [undefined, tokens["bob"]]) {
      const store = hubStore();
      await assert.rejects(realiseAs(await netrc(token), [fx.packages.hello], store), (error: unknown) =>
        isErrorKind(error, "not-found"),
      );
    }
    // A node whose narinfo cache already holds the path (another pod fetched it) still gets no nar.
    const shared = hubStore();
    await assert.rejects(
      realiseAs(await netrc(tokens["bob"]), [fx.packages.hello], shared, "alice-node"),
      (error: unknown) => isErrorKind(error, "not-found") || /build of .* failed/.test(String(error)),
    );
    const busybox = fx.packages.busybox.slice("/nix/store/".length, "/nix/store/".length + 32);
    assert.equal((await get(`${busybox}.narinfo`)).status, 404);
    assert.equal((await get(`${busybox}.narinfo`, tokens["bob"])).status, 404);
    assert.equal((await get(`${busybox}.narinfo`, tokens["alice"])).status, 200);
  });

  it("keeps a nar unreadable to a caller who learned its name", async () => {
    const hash = fx.packages.hello.slice("/nix/store/".length, "/nix/store/".length + 32);
    const text = await (await get(`${hash}.narinfo`, tokens["alice"])).text();
    const { url } = parseNarInfo(text, "served");
    assert.equal((await get(url, tokens["alice"])).status, 200);
    assert.equal((await get(url, tokens["bob"])).status, 404);
    assert.equal((await get(url)).status, 404);
  });

  it("answers narinfo requests cheaply (measured)", async () => {
    const hit = fx.packages.busybox.slice("/nix/store/".length, "/nix/store/".length + 32);
    const miss = fx.packages.hello2.slice("/nix/store/".length, "/nix/store/".length + 32);
    for (const [label, hash, status] of [
      ["readable", hit, 200],
      ["unreadable", miss, 404],
    ] as const) {
      const started = performance.now();
      for (let i = 0; i < 100; i++)
        assert.equal((await get(`${hash}.narinfo`, tokens["alice"])).status, status);
      process.stderr.write(
        `# narinfo GET (${label}): ${((performance.now() - started) / 100).toFixed(2)} ms each\n`,
      );
    }
  });

  it("substitutes a public environment's closure anonymously", async () => {
    access.environments.set("alice/web", "public");
    const store = hubStore();
    await realiseAs(undefined, [fx.packages.hello], store);
    assert.deepEqual(await invalidPaths([fx.packages.hello], store), []);
  });

  it("is refused by a node that does not trust the hub's key, and the hub's signature replaces the uploader's", async () => {
    const store = hubStore([fx.publicKey]);
    await assert.rejects(realiseAs(undefined, [fx.packages.hello], store), (error: unknown) =>
      isErrorKind(error, "failed-precondition"),
    );
    // `unsigned` had no signature when uploaded; once an environment locks it, the hub's makes it valid.
    await pushEnvironment("alice", "tools", [fx.packages.unsigned]);
    const own = hubStore();
    await realiseAs(await netrc(tokens["alice"]), [fx.packages.unsigned], own);
    assert.deepEqual(await invalidPaths([fx.packages.unsigned], own), []);
  });

  it("refuses a nar whose bytes do not match its name, and a narinfo before its nar", async () => {
    const auth = { authorization: `Basic ${Buffer.from(`oauth:${tokens["bob"]}`).toString("base64")}` };
    const nar = await fetch(`${hub.url}/cache/nar/${"1".repeat(52)}.nar.zst`, {
      method: "PUT",
      headers: auth,
      body: "x",
    });
    assert.equal(nar.status, 400);
    assert.match(await nar.text(), /its content hashes to sha256:/);
    const hash = "0".repeat(32);
    const narinfo = [
      `StorePath: /nix/store/${hash}-fake`,
      `URL: nar/${"1".repeat(52)}.nar.zst`,
      `NarHash: sha256:${"1".repeat(52)}`,
      "NarSize: 1",
      "References: ",
      "",
    ].join("\n");
    const info = await fetch(`${hub.url}/cache/${hash}.narinfo`, {
      method: "PUT",
      headers: auth,
      body: narinfo,
    });
    assert.equal(info.status, 400);
    assert.match(await info.text(), /has not been uploaded: upload the nar first/);
  });

  it("logs no token", () => {
    const log = logLines.join("");
    for (const token of Object.values(tokens)) assert.ok(!log.includes(token));
  });
});

describe("the cache in a real hub process (imageless hub serve)", () => {
  let real: HubProcess;
  const users: Record<string, string> = {};
  let key: string;
  const cli = (...args: string[]) =>
    new Promise<string>((resolve, reject) =>
      execFile(join(repoRoot(), "bin", "imageless"), args, (error, stdout, stderr) =>
        error === null ? resolve(stdout.trim()) : reject(new Error(stderr)),
      ),
    );

  before(async () => {
    real = await startHubProcess();
    for (const handle of ["alice", "bob"]) {
      users[handle] = await cli("hub", "user", "create", handle, "--data-dir", real.dataDir);
    }
    key = (await loadOrCreateSigningKey(real.dataDir)).publicKey;
  });
  after(() => real?.stop());

  it("serves a pushed private environment's closure to its owner, and to anyone once public", async () => {
    await upload([fx.packages.greeting], users["alice"], real.url);
    await pushEnvironment("alice", "greet", [fx.packages.greeting], {
      base: real.url,
      token: users["alice"],
    });
    const own = hubStore([key], real.url);
    await realiseAs(await netrc(users["alice"]), [fx.packages.greeting], own);
    assert.deepEqual(await invalidPaths([fx.packages.greeting, fx.packages.busybox], own), []);
    for (const token of [undefined, users["bob"]]) {
      const store = hubStore([key], real.url);
      await assert.rejects(realiseAs(await netrc(token), [fx.packages.greeting], store), (error: unknown) =>
        isErrorKind(error, "not-found"),
      );
    }
    const made = await fetch(`${real.url}/api/v1/environments/alice/greet/visibility`, {
      method: "PUT",
      headers: { authorization: `Bearer ${users["alice"]}`, "content-type": "application/json" },
      body: JSON.stringify({ visibility: "public" }),
    });
    assert.ok(made.ok, await made.text());
    const anonymous = hubStore([key], real.url);
    await realiseAs(undefined, [fx.packages.greeting], anonymous);
    assert.deepEqual(await invalidPaths([fx.packages.greeting], anonymous), []);
    for (const token of Object.values(users)) assert.ok(!real.log().includes(token));
  });
});
