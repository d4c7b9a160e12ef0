/**
 * The hub's binary cache with real Nix: one namespace per owner (`/cache/<owner>`), `nix copy --to`
 * uploads with a token, every upload verified against its NAR before the hub signs it,
 * `nix-store --realise` (src/nix/realise.ts) substitutes into temp stores that trust the hub's key,
 * and reads follow the visibility of the owner's environments (pushed over the hub's git). Issue 8's
 * cache poisoning (1), private paths by listing (3) and stale read index (7) are reproduced here.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createPublicKey, verify } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isErrorKind } from "../../src/errors/imageless-error.js";
import { registerCacheRoutes } from "../../src/hub/binary-cache/cache-service.js";
import { narInfoFingerprint, parseNarInfo } from "../../src/hub/binary-cache/narinfo.js";
import { loadOrCreateSigningKey } from "../../src/hub/binary-cache/signing-key.js";
import { registerGitRoutes } from "../../src/hub/git/git-service.js";
import { checkUploadOutcome } from "../../src/hub-client/cache-outcome.js";
import { createLogger } from "../../src/log/logger.js";
import { Secret } from "../../src/log/secret.js";
import { copyClosureTo } from "../../src/nix/copy.js";
import { type NixStore, storeArgs } from "../../src/nix/nix-store.js";
import { invalidPaths, realisePaths } from "../../src/nix/realise.js";
import { runNixWithOutput } from "../../src/nix/run-nix.js";
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

/** Runs `fn` as a node whose Nix reads `netrcFile` (the store's `netrcFile`, as the node runtime passes it). */
async function withNetrc<T>(
  netrcFile: string | undefined,
  fn: (auth: { netrcFile?: string }) => Promise<T>,
  narinfoCache = `node-${storeCount++}`,
): Promise<T> {
  // Nix keeps fetched narinfo in a disk cache under XDG_CACHE_HOME; each call is a separate node
  // unless it names the cache of an earlier one.
  process.env["XDG_CACHE_HOME"] = join(work, "xdg", narinfoCache);
  try {
    return await fn(netrcFile === undefined ? {} : { netrcFile });
  } finally {
    delete process.env["XDG_CACHE_HOME"];
  }
}

function hubStore(trustedPublicKeys: string[] = [hubKey], base = hub.url, owner = "alice"): NixStore {
  storeCount++;
  return {
    storeRoot: join(work, `store-${storeCount}`),
    substituters: [`${base}/cache/${owner}`],
    trustedPublicKeys,
    requireSigs: true,
  };
}

async function upload(
  paths: StorePath[],
  token: string | undefined,
  to: { base?: string; owner?: string } = {},
): Promise<string> {
  const file = await netrc(token);
  const { base = hub.url, owner = "alice" } = to;
  const { stderr } = await runNixWithOutput(
    "nix",
    [
      "--extra-experimental-features",
      "nix-command",
      "copy",
      "--to",
      `${base}/cache/${owner}?compression=zstd`,
      ...(file === undefined ? [] : ["--option", "netrc-file", file]),
      ...paths,
      ...storeArgs(fx.buildStore),
    ],
    // nix copy records what it uploaded in its narinfo disk cache (with the uploader's signatures);
    // a separate one keeps the realisations below asking the hub.
    {
      action: "uploading to the hub",
      env: { ...process.env, XDG_CACHE_HOME: join(work, `uploader-cache-${storeCount++}`) },
    },
  );
  return stderr;
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

function basic(token: string | undefined): Record<string, string> {
  return token === undefined
    ? {}
    : { authorization: `Basic ${Buffer.from(`oauth:${token}`).toString("base64")}` };
}

/** GET `<hub>/cache/<path>` (`path` starts with the owner). */
async function get(path: string, token?: string, method = "GET"): Promise<Response> {
  return fetch(`${hub.url}/cache/${path}`, { method, headers: basic(token) });
}

/** PUT raw bytes to `<hub>/cache/<path>`; the answer's status and line. */
async function put(
  path: string,
  token: string | undefined,
  body: string | Buffer,
): Promise<[number, string]> {
  const res = await fetch(`${hub.url}/cache/${path}`, { method: "PUT", headers: basic(token), body });
  return [res.status, (await res.text()).trim()];
}

function hashOf(path: StorePath): string {
  return path.slice("/nix/store/".length, "/nix/store/".length + 32);
}

/** The narinfo text and NAR file of `path` in the fixtures' own file:// cache (what nix copy writes). */
async function fixtureUpload(path: StorePath): Promise<{ narinfo: string; url: string; nar: Buffer }> {
  const narinfo = await readFile(join(fx.cacheDir, `${hashOf(path)}.narinfo`), "utf8");
  const { url } = parseNarInfo(narinfo, "fixture");
  return { narinfo, url, nar: await readFile(join(fx.cacheDir, url)) };
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
  it("answers nix-cache-info per owner, and the un-namespaced /cache with the per-owner URL", async () => {
    const res = await get("alice/nix-cache-info");
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 30\n");
    const line =
      "this hub's cache is per owner: use <hub>/cache/<owner> (e.g. nix copy --to http://hub/cache/acme)\n";
    for (const old of [
      "nix-cache-info",
      `${hashOf(fx.packages.hello)}.narinfo`,
      `nar/${"1".repeat(52)}.nar.zst`,
    ]) {
      const answer = await get(old);
      assert.deepEqual([answer.status, await answer.text()], [404, line], old);
    }
  });

  it("refuses an upload without a token, and into another owner's namespace", async () => {
    await assert.rejects(upload([fx.packages.hello], undefined), /401|Unauthorized|HTTP error/i);
    const res = await fetch(`${hub.url}/cache/alice/nar/${"0".repeat(52)}.nar.zst`, {
      method: "PUT",
      body: "x",
    });
    assert.equal(res.status, 401);
    assert.match(String(res.headers.get("www-authenticate")), /^Basic /);
    await assert.rejects(upload([fx.packages.hello], tokens["bob"]), /403|Forbidden/i);
    const { narinfo } = await fixtureUpload(fx.packages.busybox);
    assert.deepEqual(await put(`alice/${hashOf(fx.packages.busybox)}.narinfo`, tokens["bob"], narinfo), [
      403,
      "'bob' may not upload to alice's cache: it needs write access to alice",
    ]);
  });

  it("stores what nix copy uploads, re-signed with the hub's key only", async () => {
    const started = Date.now();
    await upload([fx.packages.hello, fx.packages.unsigned], tokens["alice"]);
    process.stderr.write(
      `# nix copy of hello + busybox + unsigned to the hub took ${Date.now() - started} ms\n`,
    );
    const stored = join(dataDir, "cache", "owners", "alice", `${hashOf(fx.packages.hello)}.narinfo`);
    const info = parseNarInfo(await readFile(stored, "utf8"), "stored");
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

  it("serves a path no environment locks to its namespace's writers only", async () => {
    const hash = hashOf(fx.packages.hello);
    assert.equal((await get(`alice/${hash}.narinfo`, tokens["alice"])).status, 200);
    assert.equal((await get(`alice/${hash}.narinfo`, tokens["bob"])).status, 404);
    assert.equal((await get(`alice/${hash}.narinfo`)).status, 404);
    const store = hubStore();
    await assert.rejects(
      withNetrc(await netrc(tokens["bob"]), (auth) =>
        realisePaths([fx.packages.hello], { ...store, ...auth }),
      ),
      (error: unknown) => isErrorKind(error, "not-found"),
    );
  });

  it("substitutes a private environment's closure for its owner and nobody else", async () => {
    await pushEnvironment("alice", "web", [fx.packages.hello]);
    const own = hubStore();
    const started = Date.now();
    const { substituted } = await withNetrc(await netrc(tokens["alice"]), (auth) =>
      realisePaths([fx.packages.hello], { ...own, ...auth }),
    );
    process.stderr.write(`# realise of hello (+busybox) from the hub took ${Date.now() - started} ms\n`);
    assert.deepEqual([...substituted].sort(), [fx.packages.busybox, fx.packages.hello].sort());
    assert.deepEqual(await invalidPaths([fx.packages.hello, fx.packages.busybox], own), []);

    for (const token of [undefined, tokens["bob"]]) {
      const store = hubStore();
      await assert.rejects(
        withNetrc(await netrc(token), (auth) => realisePaths([fx.packages.hello], { ...store, ...auth })),
        (error: unknown) => isErrorKind(error, "not-found"),
      );
    }
    // A node whose narinfo cache already holds the path (another pod fetched it) still gets no nar.
    const shared = hubStore();
    await assert.rejects(
      withNetrc(
        await netrc(tokens["bob"]),
        (auth) => realisePaths([fx.packages.hello], { ...shared, ...auth }),
        "alice-node",
      ),
      (error: unknown) => isErrorKind(error, "not-found") || /build of .* failed/.test(String(error)),
    );
    const busybox = hashOf(fx.packages.busybox);
    assert.equal((await get(`alice/${busybox}.narinfo`)).status, 404);
    assert.equal((await get(`alice/${busybox}.narinfo`, tokens["bob"])).status, 404);
    assert.equal((await get(`alice/${busybox}.narinfo`, tokens["alice"])).status, 200);
  });

  it("keeps a nar unreadable to a caller who learned its name", async () => {
    const text = await (await get(`alice/${hashOf(fx.packages.hello)}.narinfo`, tokens["alice"])).text();
    const { url } = parseNarInfo(text, "served");
    assert.equal((await get(`alice/${url}`, tokens["alice"])).status, 200);
    assert.equal((await get(`alice/${url}`, tokens["bob"])).status, 404);
    assert.equal((await get(`alice/${url}`)).status, 404);
    assert.equal((await get(`bob/${url}`, tokens["bob"])).status, 404);
  });

  it("answers narinfo requests cheaply (measured)", async () => {
    const hit = hashOf(fx.packages.busybox);
    const miss = hashOf(fx.packages.hello2);
    for (const [label, hash, token, status] of [
      ["refused", hit, tokens["bob"], 404],
      ["writer", hit, tokens["alice"], 200],
      ["absent", miss, tokens["alice"], 404],
    ] as const) {
      const started = performance.now();
      for (let i = 0; i < 100; i++) assert.equal((await get(`alice/${hash}.narinfo`, token)).status, status);
      process.stderr.write(
        `# narinfo GET (${label}): ${((performance.now() - started) / 100).toFixed(2)} ms each\n`,
      );
    }
  });

  it("substitutes a public environment's closure anonymously", async () => {
    access.environments.set("alice/web", "public");
    const store = hubStore();
    await withNetrc(undefined, (auth) => realisePaths([fx.packages.hello], { ...store, ...auth }));
    assert.deepEqual(await invalidPaths([fx.packages.hello], store), []);
  });

  it("is refused by a node that does not trust the hub's key, and the hub's signature replaces the uploader's", async () => {
    const store = hubStore([fx.publicKey]);
    await assert.rejects(
      withNetrc(undefined, (auth) => realisePaths([fx.packages.hello], { ...store, ...auth })),
      (error: unknown) => isErrorKind(error, "failed-precondition"),
    );
    // `unsigned` had no signature when uploaded; once an environment locks it, the hub's makes it valid.
    await pushEnvironment("alice", "tools", [fx.packages.unsigned]);
    const alices = hubStore();
    await withNetrc(await netrc(tokens["alice"]), (auth) =>
      realisePaths([fx.packages.unsigned], { ...alices, ...auth }),
    );
    assert.deepEqual(await invalidPaths([fx.packages.unsigned], alices), []);
  });

  it("verifies every upload against its NAR before storing it (NarHash, NarSize, FileHash, references)", async () => {
    const bob = tokens["bob"];
    const nar = await put(`bob/nar/${"1".repeat(52)}.nar.zst`, bob, "x");
    assert.equal(nar[0], 400);
    assert.match(nar[1], /its content hashes to sha256:/);
    const hello = await fixtureUpload(fx.packages.hello);
    const other = await fixtureUpload(fx.packages["hello-other"]);
    const busybox = await fixtureUpload(fx.packages.busybox);
    const helloHash = hashOf(fx.packages.hello);
    assert.deepEqual(await put(`bob/${helloHash}.narinfo`, bob, hello.narinfo), [
      400,
      `${fx.packages.hello} in bob's cache: ${hello.url} has not been uploaded to bob's cache: upload the nar first`,
    ]);
    // A NAR alice uploaded is not bob's to name: he must upload the bytes himself.
    assert.equal((await get(`bob/${hello.url}`, bob, "HEAD")).status, 404);
    assert.equal((await put(`bob/${other.url}`, bob, other.nar))[0], 200);
    const otherInfo = parseNarInfo(other.narinfo, "fixture");
    const forged = (replace: Record<string, string>) =>
      `${hello.narinfo
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => {
          const key = line.slice(0, line.indexOf(":"));
          return key in replace ? `${key}: ${replace[key]}` : line;
        })
        .join("\n")}\n`;
    const fields = (text: string) => parseNarInfo(text, "x").fields;
    const fileOf = (text: string, key: string) => fields(text).find(([k]) => k === key)?.[1] ?? "";
    const narHashLie = forged({
      URL: other.url,
      FileHash: fileOf(other.narinfo, "FileHash"),
      FileSize: fileOf(other.narinfo, "FileSize"),
      NarSize: String(otherInfo.narSize),
    });
    assert.deepEqual(await put(`bob/${helloHash}.narinfo`, bob, narHashLie), [
      400,
      `${fx.packages.hello} in bob's cache: NarHash ${fileOf(hello.narinfo, "NarHash")} does not match the uploaded NAR (${otherInfo.narHash})`,
    ]);
    const fileHashLie = forged({ URL: other.url });
    assert.match((await put(`bob/${helloHash}.narinfo`, bob, fileHashLie))[1], /FileHash .* does not match/);
    const narSizeLie = forged({
      URL: other.url,
      FileHash: fileOf(other.narinfo, "FileHash"),
      FileSize: fileOf(other.narinfo, "FileSize"),
      NarHash: otherInfo.narHash,
      NarSize: String(otherInfo.narSize + 1),
    });
    assert.match(
      (await put(`bob/${helloHash}.narinfo`, bob, narSizeLie))[1],
      /NarSize .* does not match the uploaded NAR/,
    );
    // hello-other's own narinfo is true, but its reference (busybox) is not in bob's namespace yet.
    const otherHash = hashOf(fx.packages["hello-other"]);
    assert.deepEqual(await put(`bob/${otherHash}.narinfo`, bob, other.narinfo), [
      400,
      `${fx.packages["hello-other"]} in bob's cache: its reference ${fx.packages.busybox} is not in bob's cache: upload it first (nix copy uploads a closure in order)`,
    ]);
    assert.equal((await put(`bob/${busybox.url}`, bob, busybox.nar))[0], 200);
    assert.equal((await put(`bob/${hashOf(fx.packages.busybox)}.narinfo`, bob, busybox.narinfo))[0], 200);
    assert.deepEqual(await put(`bob/${otherHash}.narinfo`, bob, other.narinfo), [
      200,
      `stored ${fx.packages["hello-other"]} in bob's cache`,
    ]);
    // The NAR busybox's bytes were stored once, for alice and bob.
    assert.deepEqual(
      (await readdir(join(dataDir, "cache", "nar"))).filter((f) => f === busybox.url.slice(4)),
      [busybox.url.slice(4)],
    );
  });

  it("issue 8.1: one owner's upload of a path never changes what another owner's environments receive", async () => {
    const bob = tokens["bob"];
    const hello = await fixtureUpload(fx.packages.hello);
    const other = await fixtureUpload(fx.packages["hello-other"]);
    const helloHash = hashOf(fx.packages.hello);
    // bob claims hello's store path for hello-other's content: a consistent narinfo, in bob's namespace.
    const poison = other.narinfo.replace(
      `StorePath: ${fx.packages["hello-other"]}`,
      `StorePath: ${fx.packages.hello}`,
    );
    assert.deepEqual(await put(`bob/${helloHash}.narinfo`, bob, poison), [
      200,
      `stored ${fx.packages.hello} in bob's cache`,
    ]);
    // alice's environment alice/web (public) still receives alice's hello.
    const served = parseNarInfo(await (await get(`alice/${helloHash}.narinfo`)).text(), "served");
    assert.equal(served.narHash, parseNarInfo(hello.narinfo, "fixture").narHash);
    const store = hubStore();
    await withNetrc(undefined, (auth) => realisePaths([fx.packages.hello], { ...store, ...auth }));
    const { stdout } = await runNixWithOutput(
      "nix-store",
      ["--verify-path", fx.packages.hello, ...storeArgs(store)],
      {
        action: "verifying hello",
      },
    );
    assert.equal(stdout.trim(), "");
    // A second, different upload into a namespace that has the path is refused; an identical one says so.
    assert.equal((await put(`alice/${other.url}`, tokens["alice"], other.nar))[0], 200);
    const [status, line] = await put(`alice/${helloHash}.narinfo`, tokens["alice"], poison);
    assert.equal(status, 409);
    assert.match(
      line,
      new RegExp(
        `^${fx.packages.hello.replace(/[.+]/g, "\\$&")} in alice's cache exists with different content \\(NarHash sha256:`,
      ),
    );
    assert.deepEqual(await put(`alice/${helloHash}.narinfo`, tokens["alice"], hello.narinfo), [
      200,
      `${fx.packages.hello} is already in alice's cache, identical: nothing stored`,
    ]);
  });

  it("issue 8.3: an environment whose lock lists another owner's private path opens nothing", async () => {
    await upload([fx.packages.greeting], tokens["alice"]);
    await pushEnvironment("alice", "secret", [fx.packages.greeting]);
    await pushEnvironment("bob", "steal", [fx.packages.greeting]);
    access.environments.set("bob/steal", "public");
    const hash = hashOf(fx.packages.greeting);
    for (const [owner, token] of [
      ["bob", undefined],
      ["bob", tokens["bob"]],
      ["alice", undefined],
      ["alice", tokens["bob"]],
    ] as const) {
      assert.equal((await get(`${owner}/${hash}.narinfo`, token)).status, 404, `${owner} ${token}`);
    }
    assert.equal((await get(`alice/${hash}.narinfo`, tokens["alice"])).status, 200);
  });

  it("issue 8.7: a new environment listing a path the hub already serves opens it at once", async () => {
    await upload([fx.packages.hello2], tokens["alice"]);
    await pushEnvironment("alice", "first", [fx.packages.hello2]);
    const hash = hashOf(fx.packages.hello2);
    // The index now knows hello-2.0 as readable through alice/first (private) only.
    assert.equal((await get(`alice/${hash}.narinfo`)).status, 404);
    await pushEnvironment("alice", "second", [fx.packages.hello2]);
    access.environments.set("alice/second", "public");
    assert.equal((await get(`alice/${hash}.narinfo`)).status, 200);
  });

  it("issue 8.1: env push's upload reports the true outcome of each path (copied, already there, conflict)", async () => {
    access.addMember("acme", "alice", "writer");
    access.addMember("acme", "bob", "writer");
    const cacheUrl = `${hub.url}/cache/acme`;
    const as = (user: string) => ({ cacheUrl, token: new Secret(tokens[user] ?? "") });
    const copy = async (user: string, paths: StorePath[]) => {
      const result = await copyClosureTo(paths, {
        to: cacheUrl,
        token: new Secret(tokens[user] ?? ""),
        fromStore: `local?root=${fx.buildStore.storeRoot}`,
      });
      return checkUploadOutcome(result.closure, result.copied, as(user));
    };
    assert.deepEqual(await copy("alice", [fx.packages.greeting]), { copied: 2, present: 0 });
    assert.deepEqual(await copy("bob", [fx.packages.greeting]), { copied: 0, present: 2 });
    // bob, a writer of acme too, put other content under hello's store path first (raw uploads).
    const other = await fixtureUpload(fx.packages["hello-other"]);
    const poison = other.narinfo.replace(
      `StorePath: ${fx.packages["hello-other"]}`,
      `StorePath: ${fx.packages.hello}`,
    );
    assert.equal((await put(`acme/${other.url}`, tokens["bob"], other.nar))[0], 200);
    assert.equal((await put(`acme/${hashOf(fx.packages.hello)}.narinfo`, tokens["bob"], poison))[0], 200);
    // Nix skips a path the cache answers for; the check after it says what is really there.
    await assert.rejects(copy("alice", [fx.packages.hello]), {
      name: "ImagelessError",
      kind: "failed-precondition",
      message: `the cache at ${cacheUrl} holds it with other content (uploaded earlier by another writer): build it from the same inputs, or push it under another owner: ${fx.packages.hello}`,
    });
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
    await upload([fx.packages.greeting], users["alice"], { base: real.url });
    await pushEnvironment("alice", "greet", [fx.packages.greeting], {
      base: real.url,
      token: users["alice"],
    });
    const own = hubStore([key], real.url);
    assert.match(
      await upload([fx.packages.greeting], users["bob"], { base: real.url, owner: "alice" }).catch(String),
      /403|Forbidden/,
    );
    await withNetrc(await netrc(users["alice"]), (auth) =>
      realisePaths([fx.packages.greeting], { ...own, ...auth }),
    );
    assert.deepEqual(await invalidPaths([fx.packages.greeting, fx.packages.busybox], own), []);
    for (const token of [undefined, users["bob"]]) {
      const store = hubStore([key], real.url);
      await assert.rejects(
        withNetrc(await netrc(token), (auth) => realisePaths([fx.packages.greeting], { ...store, ...auth })),
        (error: unknown) => isErrorKind(error, "not-found"),
      );
    }
    const made = await fetch(`${real.url}/api/v1/environments/alice/greet/visibility`, {
      method: "PUT",
      headers: { authorization: `Bearer ${users["alice"]}`, "content-type": "application/json" },
      body: JSON.stringify({ visibility: "public" }),
    });
    assert.ok(made.ok, await made.text());
    const anonymous = hubStore([key], real.url);
    await withNetrc(undefined, (auth) => realisePaths([fx.packages.greeting], { ...anonymous, ...auth }));
    assert.deepEqual(await invalidPaths([fx.packages.greeting], anonymous), []);
    for (const token of Object.values(users)) assert.ok(!real.log().includes(token));
  });
});
