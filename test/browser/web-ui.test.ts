import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Browser, chromium, type Page } from "playwright-core";
import { HubApiClient } from "../../src/hub-client/api-client.js";
import { pushEnvironment } from "../../src/hub-client/env-push.js";
import { Secret } from "../../src/log/secret.js";
import type { StorePath } from "../../src/nix/store-path.js";
import { fixtureGeneration } from "../harness/flox-envs.js";
import { type HubProcess, startHubProcess } from "../harness/hub.js";
import { makeTempDir, removeTree } from "../harness/temp.js";

// The hub's web UI in Debian's chromium, against a real hub process seeded with `env push`.

const CHROMIUM = "/usr/bin/chromium";
const HELLO = "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-hello-1.0";
const HELLO2 = "/nix/store/abcdfghijklmnpqrsvwxyz0123456789-hello-2.0";

let hub: HubProcess;
let work: string;
let chrome: { browser: Browser; stop(): Promise<void> } | undefined;
let handle = "";
const pageErrors: string[] = [];

/**
 * Starts chromium headless with a fresh profile and connects over CDP, so this suite owns the PID
 * it must stop (a browser launched by Playwright hides it).
 */
async function launchChromium(profile: string): Promise<{ browser: Browser; stop(): Promise<void> }> {
  const child: ChildProcess = spawn(
    CHROMIUM,
    [
      "--headless=new",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--no-default-browser-check",
      `--user-data-dir=${profile}`,
      "--remote-debugging-address=127.0.0.1",
      "--remote-debugging-port=0",
      "about:blank",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  const stop = async () => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    process.kill(child.pid, "SIGTERM");
    const timer = setTimeout(() => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, "SIGKILL");
    }, 5000);
    await exited;
    clearTimeout(timer);
  };
  try {
    const endpoint = await new Promise<string>((resolve, reject) => {
      let stderr = "";
      const timer = setTimeout(
        () => reject(new Error(`chromium printed no DevTools endpoint:\n${stderr}`)),
        20_000,
      );
      child.stderr?.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /DevTools listening on (ws:\/\/\S+)/.exec(stderr);
        if (match?.[1] !== undefined) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      child.once("exit", (code) => reject(new Error(`chromium exited with ${code}:\n${stderr}`)));
    });
    const browser = await chromium.connectOverCDP(endpoint);
    return {
      browser,
      stop: async () => {
        await browser.close().catch(() => undefined);
        await stop();
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function seed(
  dir: string,
  ref: { owner: string; name: string },
  manifest: string,
  lock?: object,
): Promise<void> {
  await mkdir(join(dir, ".flox", "env"), { recursive: true });
  await writeFile(join(dir, ".flox", "env", "manifest.toml"), manifest);
  if (lock !== undefined) await writeFile(join(dir, ".flox", "env", "manifest.lock"), JSON.stringify(lock));
  await pushEnvironment({
    dir,
    ref,
    hubUrl: hub.url,
    token: new Secret(hub.adminToken),
    copyPaths: "never",
    hostname: "seed-host",
    timestamp: Math.floor(Date.now() / 1000),
    command: ["imageless", "env", "push"],
    localSystem: "x86_64-linux",
  });
}

const webManifest = (path: string, greeting: string) =>
  [
    "version = 1",
    "[install]",
    `hello.store-path = "${path}"`,
    "[vars]",
    `GREETING = "${greeting}"`,
    "[hook]",
    'on-activate = "echo activated <b>not html</b>"',
    "[profile]",
    'bash = "alias hi=hello"',
    "[options]",
    'systems = ["x86_64-linux", "aarch64-linux"]',
    "",
  ].join("\n");

before(async () => {
  work = await makeTempDir("web-ui");
  hub = await startHubProcess();
  const admin = new HubApiClient({ hubUrl: hub.url, token: new Secret(hub.adminToken) });
  handle = (await admin.me()).handle;
  await seed(join(work, "web"), { owner: handle, name: "web" }, webManifest(HELLO, "one"));
  await seed(join(work, "web"), { owner: handle, name: "web" }, webManifest(HELLO2, "two"));
  // A catalog-shaped generation, as Flox locks it: the page shows its version.
  const catalog = fixtureGeneration([{ installId: "hello", path: HELLO as StorePath }]);
  await seed(join(work, "tools"), { owner: handle, name: "tools" }, catalog.manifestToml, catalog.lock);
  await admin.setVisibility({ owner: handle, name: "tools" }, "public");
  chrome = await launchChromium(join(work, "chromium-profile"));
});

after(async () => {
  await chrome?.stop();
  await hub?.stop();
  await removeTree(work);
});

async function newPage(): Promise<Page> {
  const context = chrome?.browser.contexts()[0] ?? (await chrome?.browser.newContext());
  assert.ok(context);
  const page = await context.newPage();
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.on("console", (message) => {
    // An API error answer is shown in the page; chromium also logs it as "Failed to load resource".
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
      pageErrors.push(message.text());
    }
  });
  return page;
}

const rowsOf = (page: Page, testId: string) =>
  page
    .locator(`[data-testid="${testId}"] tbody tr`)
    .evaluateAll((rows) =>
      rows.map((row) => [...row.querySelectorAll("td")].map((td) => (td.textContent ?? "").trim())),
    );

describe("the hub's web UI", () => {
  let page: Page;

  it("shows anonymous visitors only public environments, with their visibility", async () => {
    page = await newPage();
    await page.goto(`${hub.url}/`);
    await page.locator('[data-testid="environments"]').waitFor();
    const rows = await rowsOf(page, "environments");
    assert.deepEqual(
      rows.map((r) => [r[0], r[1], r[2]]),
      [[`${handle}/tools`, "public", "1"]],
    );
    assert.equal(await page.locator("#sign-in").isVisible(), true);
    await page.click(`text=${handle}/tools`);
    await page.locator('[data-testid="packages"]').waitFor();
    assert.deepEqual(await rowsOf(page, "packages"), [["hello", "1.0", "hello", "x86_64-linux"]]);
    await page.goto(`${hub.url}/#/`);
    await page.locator('[data-testid="environments"]').waitFor();
  });

  it("signs in with a token, kept across a reload, and then lists private environments too", async () => {
    await page.fill("#token-input", hub.adminToken);
    await page.click("#sign-in-button");
    await page.locator("#handle", { hasText: handle }).waitFor();
    await page.locator(`[data-testid="environments"] >> text=${handle}/web`).waitFor();
    await page.reload();
    await page.locator("#handle", { hasText: handle }).waitFor();
    const rows = await rowsOf(page, "environments");
    assert.deepEqual(rows.map((r) => [r[0], r[1], r[2], r[3]]).sort(), [
      [`${handle}/tools`, "public", "1", "1"],
      [`${handle}/web`, "private", "2", "2"],
    ]);
  });

  it("shows an environment's packages per system, variables, hook, profile, generations and history", async () => {
    await page.click(`text=${handle}/web`);
    await page.locator('[data-testid="packages"]').waitFor();
    assert.equal(await page.locator('[data-testid="live-generation"]').textContent(), "2");
    assert.equal(await page.locator('[data-testid="visibility"]').textContent(), "private");
    assert.deepEqual(await rowsOf(page, "packages"), [["hello", "-", HELLO2, "x86_64-linux, aarch64-linux"]]);
    assert.deepEqual(await rowsOf(page, "vars"), [["GREETING", "two"]]);
    // Scripts are shown as text, never interpreted as HTML.
    assert.equal(await page.locator('[data-testid="hook"]').textContent(), "echo activated <b>not html</b>");
    assert.equal(await page.locator('[data-testid="profile-bash"]').textContent(), "alias hi=hello");
    const gens = await rowsOf(page, "generations");
    assert.deepEqual(
      gens.map((r) => [r[0], r[2], r[4]]),
      [
        ["1", handle, "Switch to this generation"],
        ["2", handle, "live"],
      ],
    );
    const history = await rowsOf(page, "history");
    assert.deepEqual(
      history.map((r) => [r[1], r[2], r[3]?.split(":")[0], r[4], r[5]]),
      [
        [handle, "seed-host", "import", "1", "imageless env push"],
        [handle, "seed-host", "edit", "1 → 2", "imageless env push"],
      ],
    );
  });

  it("shows an older generation's content when it is picked", async () => {
    await page.click('[data-testid="generations"] >> a >> text="1"');
    await page.locator('[data-testid="shown-generation"]', { hasText: "1" }).waitFor();
    assert.deepEqual(await rowsOf(page, "vars"), [["GREETING", "one"]]);
    assert.equal(await page.locator('[data-testid="live-generation"]').textContent(), "2");
  });

  it("switches the live generation with the button; the API sees the new live generation", async () => {
    await page.click('[data-testid="switch-1"]');
    await page.locator('[data-testid="live-1"]').waitFor();
    assert.equal(await page.locator('[data-testid="live-generation"]').textContent(), "1");
    assert.equal(await page.locator('[data-testid="switch-2"]').isVisible(), true);
    const api = new HubApiClient({ hubUrl: hub.url, token: new Secret(hub.adminToken) });
    const env = await api.environment({ owner: handle, name: "web" });
    assert.equal(env.liveGeneration, 1);
    const last = (await api.history({ owner: handle, name: "web" })).at(-1);
    assert.equal(last?.kind, "switch_generation");
    assert.equal(last?.author, handle);
    assert.equal(last?.previousGeneration, 2);
  });

  it("signs out, forgetting the token, and raised no page errors", async () => {
    await page.click("#sign-out-button");
    await page.locator("#sign-in").waitFor({ state: "visible" });
    assert.equal(await page.evaluate("localStorage.getItem('imageless.token')"), null);
    assert.deepEqual(pageErrors, []);
  });
});
