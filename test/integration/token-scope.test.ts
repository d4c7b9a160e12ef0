/**
 * Where a pod's token goes while its environment is realised (SPEC §7: the hub's cache is "the only
 * substituter a pod's token is ever sent to"): to `<cache-url>/<owner>` and the hub's git, never to
 * another substituter. The other substituter is a capture server on 127.0.0.2 (another host to
 * netrc, which matches host names only) that serves every package, so Nix certainly talks to it.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type BinaryCacheServer, serveBinaryCache } from "../harness/binary-cache-server.js";
import { helloGeneration } from "../harness/flox-envs.js";
import { writeFloxmeta } from "../harness/floxmeta-fixture.js";
import { type GitHttpServer, serveGit } from "../harness/git-http-server.js";
import { buildFixturePackages, type Fixtures } from "../harness/nix-fixtures.js";
import { startCreate, writeBundle, writeNodeConfig } from "../harness/runtime-create.js";
import { makeTempDir, removeTree } from "../harness/temp.js";

const TOKEN = `imageless-scope-${randomBytes(12).toString("hex")}`;
const BASIC = `Basic ${Buffer.from(`oauth:${TOKEN}`).toString("base64")}`;

let work: string;
let fixtures: Fixtures;
let git: GitHttpServer;
let hubCache: BinaryCacheServer;
let capture: BinaryCacheServer;

before(async () => {
  work = await makeTempDir("scope");
  fixtures = await buildFixturePackages(join(work, "fixtures"));
  const { hello, coreutils } = fixtures.packages;
  await writeFloxmeta(join(work, "floxmeta"), "acme", [
    { name: "private", generations: [helloGeneration({ hello, coreutils })] },
  ]);
  git = await serveGit(join(work, "floxmeta"), { requireToken: TOKEN });
  // The hub's cache for acme holds nothing of this environment: every path comes from the capture.
  const empty = join(work, "empty-cache");
  await mkdir(empty);
  await writeFile(join(empty, "nix-cache-info"), "StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 30\n");
  hubCache = await serveBinaryCache(empty, { prefix: "/cache/acme" });
  capture = await serveBinaryCache(fixtures.cacheDir, { host: "127.0.0.2" });
});

after(async () => {
  await Promise.all([git?.close(), hubCache?.close(), capture?.close()]);
  await removeTree(work);
});

describe("a pod's token during realisation", () => {
  it("goes to the owner's hub cache and never to another substituter", async () => {
    const configPath = join(work, "config.toml");
    await writeNodeConfig(configPath, {
      storeRoot: join(work, "store"),
      stateDir: join(work, "state"),
      gitUrl: git.url,
      cacheUrl: hubCache.url.replace(/\/acme$/, ""),
      substituters: [capture.url],
      publicKey: fixtures.publicKey,
    });
    const secret = join(work, "secret");
    await mkdir(secret);
    await writeFile(join(secret, "floxhub-token"), `${TOKEN}\n`);
    const bundle = join(work, "bundles", "c1");
    await writeBundle(bundle, { "flox.dev/environment": "acme/private:1" }, [
      { destination: "/var/run/secrets/flox.dev", source: secret },
    ]);
    const { code } = await startCreate(configPath, bundle, "c1").done;
    assert.equal(code, 0, await readFile(join(bundle, "log.json"), "utf8").catch(() => ""));
    // Nix asked the hub cache (with the token) and fetched everything from the capture (without).
    assert.ok(hubCache.requests.get("/nix-cache-info") !== undefined, "the hub cache was asked");
    assert.ok(hubCache.authorizations.length > 0, "the hub cache got the token");
    assert.ok(hubCache.authorizations.every((header) => header === BASIC));
    const nars = [...capture.requests.keys()].filter((path) => path.startsWith("/nar/"));
    assert.ok(nars.length >= 2, "the packages came from the capture server");
    assert.deepEqual(capture.authorizations, [], "the capture server saw an Authorization header");
  });
});
