/**
 * The hub's limits and its cache gc, end to end: issue 8's 150 MB `metadata.json` push against a real
 * `imageless hub serve` process with its RSS measured, then a hub with small limits for the API body,
 * the push pack, NAR size and an owner's quota, and `imageless hub gc` beside a running hub.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { createUserDirect } from "../../src/hub/accounts/bootstrap.js";
import { parseNarInfo } from "../../src/hub/binary-cache/narinfo.js";
import { DEFAULT_HUB_LIMITS } from "../../src/hub/hub-limits.js";
import { type RunningHub, startHub } from "../../src/hub/server.js";
import { nullLogger } from "../../src/log/logger.js";
import { storeArgs } from "../../src/nix/nix-store.js";
import { runNix } from "../../src/nix/run-nix.js";
import type { StorePath } from "../../src/nix/store-path.js";
import { floxmetaPath, writeFloxmeta } from "../harness/floxmeta-fixture.js";
import { type HubProcess, startHubProcess } from "../harness/hub.js";
import { buildFixturePackages, type Fixtures, lockEntry } from "../harness/nix-fixtures.js";
import { repoRoot } from "../harness/repo-root.js";
import { makeTempDir, removeTree } from "../harness/temp.js";

const run = promisify(execFile);
const GIT_ENV = { PATH: process.env["PATH"] ?? "", GIT_CONFIG_GLOBAL: "/dev/null", GIT_TERMINAL_PROMPT: "0" };
const MiB = 1024 * 1024;

let work: string;

before(async () => {
  work = await makeTempDir("hub-limits");
});
after(() => removeTree(work));

/** A git repository at `dir` whose branch `name` holds `files` in one commit. */
async function commitFiles(dir: string, name: string, files: Record<string, string | Buffer>): Promise<void> {
  await mkdir(dir, { recursive: true });
  const git = (...args: string[]) => run("git", ["-C", dir, ...args], { env: GIT_ENV });
  await git("init", "--quiet", "-b", name);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, path, ".."), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  await git("add", ".");
  await git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-m", "generation 1");
}

/** `git push` of branch `name`; resolves with git's stderr, whether the push was accepted or not. */
async function push(dir: string, url: string, name: string): Promise<{ ok: boolean; stderr: string }> {
  return new Promise((resolve) =>
    execFile("git", ["-C", dir, "push", url, name], { env: GIT_ENV }, (error, _out, stderr) =>
      resolve({ ok: error === null, stderr }),
    ),
  );
}

const METADATA = (pad: string) =>
  JSON.stringify({
    version: 2,
    total_generations: 1,
    history: [
      {
        kind: "create_generation",
        author: "admin",
        hostname: "h",
        timestamp: 1,
        current_generation: "1",
        summary: pad,
      },
    ],
  });

/** kB of the hub process's resident memory now and at its peak. */
async function memoryOf(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
  return { rss: kb("VmRSS"), peak: kb("VmHWM") };
}

describe("a hub process under issue 8's oversized push (default limits)", () => {
  let hub: HubProcess;
  before(async () => {
    hub = await startHubProcess();
  });
  after(() => hub?.stop());

  it("refuses a 150 MB metadata.json in one line, reads nothing of it, and its memory stays bounded", async () => {
    const dir = join(work, "big");
    await commitFiles(dir, "big", {
      "metadata.json": METADATA("x".repeat(150 * MiB)),
      "1/env/manifest.toml": "version = 1\n",
    });
    const before = await memoryOf(hub.pid);
    const url = `http://oauth:${hub.adminToken}@${new URL(hub.url).host}/git/admin/floxmeta`;
    const pushed = await push(dir, url, "big");
    assert.equal(pushed.ok, false);
    assert.match(
      pushed.stderr,
      /remote: imageless hub: push refused: environment 'big': metadata\.json is 150\.0 MiB, over the hub's limit of 8\.0 MiB \(hub serve --max-blob\) *\n/,
    );
    for (let i = 0; i < 3; i++) {
      const read = await fetch(`${hub.url}/api/v1/environments/admin/big`, {
        headers: { authorization: `Bearer ${hub.adminToken}` },
      });
      assert.equal(read.status, 404);
    }
    const afterPush = await memoryOf(hub.pid);
    process.stderr.write(
      `# hub RSS before the 150 MB push: ${Math.round(before.rss / 1024)} MB (peak ${Math.round(before.peak / 1024)} MB); after it and three reads: ${Math.round(afterPush.rss / 1024)} MB (peak ${Math.round(afterPush.peak / 1024)} MB)\n`,
    );
    // The hub never holds the file: its peak grows by far less than the file's size.
    assert.ok(afterPush.peak - before.peak < 64 * 1024, `peak grew by ${afterPush.peak - before.peak} kB`);
  });

  it("refuses an API body over 64 KiB with 413 and one line", async () => {
    const res = await fetch(`${hub.url}/api/v1/orgs`, {
      method: "POST",
      headers: { authorization: `Bearer ${hub.adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "acme", pad: "x".repeat(70 * 1024) }),
    });
    assert.deepEqual(
      [res.status, await res.json()],
      [
        413,
        { error: "the request body is larger than the hub's limit of 64.0 KiB (hub serve --max-api-body)" },
      ],
    );
  });
});

describe("a hub with small limits, and imageless hub gc", () => {
  let fx: Fixtures;
  let hub: RunningHub;
  let dataDir: string;
  let alice = "";
  let sizes: Record<"busybox" | "hello" | "greeting", { url: string; nar: Buffer; narinfo: string }>;

  const auth = () => ({ authorization: `Basic ${Buffer.from(`oauth:${alice}`).toString("base64")}` });
  const put = async (path: string, body: string | Buffer): Promise<[number, string]> => {
    const res = await fetch(`${hub.url}/cache/alice/${path}`, { method: "PUT", headers: auth(), body });
    return [res.status, (await res.text()).trim()];
  };
  const fixture = async (path: StorePath) => {
    const hash = path.slice("/nix/store/".length, "/nix/store/".length + 32);
    const narinfo = await readFile(join(fx.cacheDir, `${hash}.narinfo`), "utf8");
    const { url } = parseNarInfo(narinfo, "fixture");
    return { url, narinfo, nar: await readFile(join(fx.cacheDir, url)) };
  };
  const quota = () =>
    sizes.busybox.nar.length + Math.max(sizes.hello.nar.length, sizes.greeting.nar.length) + 10;
  const hashOf = (path: StorePath) => path.slice("/nix/store/".length, "/nix/store/".length + 32);

  before(async () => {
    fx = await buildFixturePackages(join(work, "fixtures"));
    sizes = {
      busybox: await fixture(fx.packages.busybox),
      hello: await fixture(fx.packages.hello),
      greeting: await fixture(fx.packages.greeting),
    };
    dataDir = join(work, "data");
    await mkdir(dataDir, { recursive: true });
    alice = (await createUserDirect({ dataDir }, "alice", { admin: false })).token.reveal();
    hub = await startHub({
      listen: "127.0.0.1:0",
      dataDir,
      log: nullLogger,
      limits: {
        ...DEFAULT_HUB_LIMITS,
        apiBodyBytes: 1024,
        pushBytes: MiB,
        narBytes: sizes.busybox.nar.length + 1000,
        // busybox with hello or greeting fits; all three do not.
        ownerQuotaBytes: quota(),
      },
    });
  });
  after(() => hub?.close());

  it("refuses a push pack over --max-push", async () => {
    const dir = join(work, "pack");
    await commitFiles(dir, "web", {
      "metadata.json": METADATA("first"),
      "1/env/manifest.toml": "version = 1\n",
      "1/env/noise.bin": randomBytes(2 * MiB),
    });
    const pushed = await push(
      dir,
      `http://oauth:${alice}@${new URL(hub.url).host}/git/alice/floxmeta`,
      "web",
    );
    assert.equal(pushed.ok, false);
    assert.match(pushed.stderr, /pack exceeds maximum allowed size|413|this push is/);
  });

  it("refuses a NAR over --max-nar, and uploads over the owner's --cache-quota, in one 413 line", async () => {
    const tooBig = randomBytes(sizes.busybox.nar.length + 1001);
    const [status, line] = await put(`nar/${"1".repeat(52)}.nar.zst`, tooBig);
    assert.equal(status, 413);
    assert.match(
      line,
      /^nar file "1{52}\.nar\.zst" is [0-9.]+ (KiB|MiB), over the hub's limit of [0-9.]+ (KiB|MiB) \(hub serve --max-nar\)$/,
    );
    assert.deepEqual((await put(sizes.busybox.url, sizes.busybox.nar))[0], 200);
    assert.deepEqual((await put(sizes.hello.url, sizes.hello.nar))[0], 200);
    const over = await put(sizes.greeting.url, sizes.greeting.nar);
    assert.deepEqual(over, [
      413,
      `alice's cache is full: uploading "${sizes.greeting.url.slice(4)}" would go over its quota of ${quota()} bytes (hub serve --cache-quota); hub gc removes what no environment uses`,
    ]);
  });

  it("imageless hub gc removes unreferenced paths and orphaned NARs beside the running hub, and keeps what environments use", async () => {
    // busybox becomes a path of alice's namespace that no environment locks; hello's NAR stays an orphan.
    assert.equal((await put(`${hashOf(fx.packages.busybox)}.narinfo`, sizes.busybox.narinfo))[0], 200);
    assert.equal(
      (await fetch(`${hub.url}/cache/alice/${hashOf(fx.packages.busybox)}.narinfo`, { headers: auth() }))
        .status,
      200,
    );
    const gc = await run(join(repoRoot(), "bin", "imageless"), [
      "hub",
      "gc",
      "--data-dir",
      dataDir,
      "--grace",
      "0s",
    ]);
    assert.match(gc.stdout, /^removed 1 cached paths and 2 NAR files \([0-9.]+ (KiB|MiB)\)\n$/);
    assert.equal(
      (await fetch(`${hub.url}/cache/alice/${hashOf(fx.packages.busybox)}.narinfo`, { headers: auth() }))
        .status,
      404,
    );
    await assert.rejects(stat(join(dataDir, "cache", "nar", sizes.busybox.url.slice(4))));
    // The quota counts what is left: greeting fits now. A path an environment locks survives gc.
    for (const path of [fx.packages.busybox, fx.packages.greeting]) {
      const { url, nar, narinfo } = await fixture(path);
      assert.equal((await put(url, nar))[0], 200);
      assert.equal((await put(`${hashOf(path)}.narinfo`, narinfo))[0], 200);
    }
    const root = join(work, "floxmeta");
    const lock = {
      "lockfile-version": 1,
      manifest: { version: 1, install: { greeting: { "pkg-path": "greeting" } } },
      packages: [lockEntry("greeting", fx.packages.greeting)],
    };
    await writeFloxmeta(root, "alice", [
      { name: "web", generations: [{ manifestToml: "version = 1\n", lock }] },
    ]);
    const pushed = await push(
      floxmetaPath(root, "alice"),
      `http://oauth:${alice}@${new URL(hub.url).host}/git/alice/floxmeta`,
      "web",
    );
    assert.ok(pushed.ok, pushed.stderr);
    const again = await run(join(repoRoot(), "bin", "imageless"), [
      "hub",
      "gc",
      "--data-dir",
      dataDir,
      "--grace",
      "0s",
    ]);
    assert.match(again.stdout, /^removed 0 cached paths and 0 NAR files \(0 bytes\)\n$/);
    // greeting and busybox (its reference) still substitute for alice.
    const netrc = join(work, "netrc");
    await writeFile(netrc, `machine 127.0.0.1\nlogin oauth\npassword ${alice}\n`, { mode: 0o600 });
    const key = (await readFile(join(dataDir, "signing-key"), "utf8")).split(":")[0];
    assert.equal(key, "imageless-hub-1");
    await runNix(
      "nix-store",
      [
        "--realise",
        fx.packages.greeting,
        ...storeArgs({
          storeRoot: join(work, "node-store"),
          substituters: [`${hub.url}/cache/alice`],
          trustedPublicKeys: [],
          requireSigs: false,
          netrcFile: netrc,
        }),
      ],
      { action: "substituting greeting after gc" },
    );
  });
});
