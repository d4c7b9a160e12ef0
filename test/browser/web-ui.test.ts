import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import type { Browser, Page } from "playwright-core";
import { isErrorKind } from "../../src/errors/imageless-error.js";
import { HubApiClient } from "../../src/hub-client/api-client.js";
import { pushEnvironment } from "../../src/hub-client/env-push.js";
import { Secret } from "../../src/log/secret.js";
import type { StorePath } from "../../src/nix/store-path.js";
import { fixtureGeneration } from "../harness/flox-envs.js";
import { type HubProcess, startHubProcess } from "../harness/hub.js";
import { repoRoot } from "../harness/repo-root.js";
import { makeTempDir, removeTree } from "../harness/temp.js";
import { launchChromium, screenshot } from "./chromium.js";

// The hub's web UI in Debian's chromium, against a real hub process seeded with `env push`: every
// action a person can take in it, checked through the API afterwards, each page screenshotted.

const run = promisify(execFile);
const HELLO = "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-hello-1.0";
const HELLO2 = "/nix/store/abcdfghijklmnpqrsvwxyz0123456789-hello-2.0";

let hub: HubProcess;
let work: string;
let chrome: { browser: Browser; stop(): Promise<void> } | undefined;
let handle = "";
let admin: HubApiClient;
let bobToken = "";
const pageErrors: string[] = [];

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
  admin = new HubApiClient({ hubUrl: hub.url, token: new Secret(hub.adminToken) });
  handle = (await admin.me()).handle;
  await seed(join(work, "web"), { owner: handle, name: "web" }, webManifest(HELLO, "one"));
  await seed(join(work, "web"), { owner: handle, name: "web" }, webManifest(HELLO2, "two"));
  // A catalog-shaped generation, as Flox locks it: the page shows its version.
  const catalog = fixtureGeneration([{ installId: "hello", path: HELLO as StorePath }]);
  await seed(join(work, "tools"), { owner: handle, name: "tools" }, catalog.manifestToml, catalog.lock);
  await admin.setVisibility({ owner: handle, name: "tools" }, "public");
  await seed(join(work, "scratch"), { owner: handle, name: "scratch" }, webManifest(HELLO, "bye"));
  // A second user, to add to an organisation, made as an operator would (it prints bob's token).
  const created = await run(join(repoRoot(), "bin", "imageless"), [
    "hub",
    "user",
    "create",
    "bob",
    "--data-dir",
    hub.dataDir,
  ]);
  bobToken = created.stdout.trim();
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
  await page.setViewportSize({ width: 1200, height: 900 });
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

/** What the header shows, by computed style (playwright's isVisible), not by what is in the DOM. */
async function header(page: Page): Promise<{ signIn: boolean; signedIn: boolean }> {
  return {
    signIn: await page.locator("#sign-in").isVisible(),
    signedIn: await page.locator("#signed-in").isVisible(),
  };
}

const message = (page: Page) => page.locator("#message").textContent();
const web = () => ({ owner: handle, name: "web" });

describe("the hub's web UI", () => {
  let page: Page;

  it("shows anonymous visitors only public environments, the sign-in form and no account, no actions", async () => {
    page = await newPage();
    await page.goto(`${hub.url}/`);
    await page.locator('[data-testid="environments"]').waitFor();
    assert.deepEqual(await header(page), { signIn: true, signedIn: false });
    const rows = await rowsOf(page, "environments");
    assert.deepEqual(
      rows.map((r) => [r[0], r[1], r[2]]),
      [[`${handle}/tools`, "public", "1"]],
    );
    await screenshot(page, "01-list-anonymous");
    await page.click(`text=${handle}/tools`);
    await page.locator('[data-testid="packages"]').waitFor();
    assert.deepEqual(await rowsOf(page, "packages"), [["hello", "1.0", "hello", "x86_64-linux"]]);
    // Reading a public environment offers nothing to change.
    assert.equal(await page.locator('[data-testid="actions"]').count(), 0);
    assert.equal(await page.locator('[data-testid="danger-zone"]').count(), 0);
    await page.goto(`${hub.url}/#/`);
    await page.locator('[data-testid="environments"]').waitFor();
  });

  it("signs in with a token, kept across a reload; the header shows only the account; private environments appear", async () => {
    await page.fill("#token-input", hub.adminToken);
    await page.click("#sign-in-button");
    await page.locator("#handle", { hasText: handle }).waitFor();
    assert.deepEqual(await header(page), { signIn: false, signedIn: true });
    await page.locator(`[data-testid="environments"] >> text=${handle}/web`).waitFor();
    await page.reload();
    await page.locator("#handle", { hasText: handle }).waitFor();
    assert.deepEqual(await header(page), { signIn: false, signedIn: true });
    const rows = await rowsOf(page, "environments");
    assert.deepEqual(rows.map((r) => [r[0], r[1], r[2], r[3]]).sort(), [
      [`${handle}/scratch`, "private", "1", "1"],
      [`${handle}/tools`, "public", "1", "1"],
      [`${handle}/web`, "private", "2", "2"],
    ]);
    await screenshot(page, "02-list-signed-in");
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
    await screenshot(page, "03-environment");
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
    assert.equal(await message(page), `Generation 1 of ${handle}/web is live now.`);
    assert.equal(await page.locator('[data-testid="switch-2"]').isVisible(), true);
    assert.equal((await admin.environment(web())).liveGeneration, 1);
    const last = (await admin.history(web())).at(-1);
    assert.deepEqual([last?.kind, last?.author, last?.previousGeneration], ["switch_generation", handle, 2]);
  });

  it("rolls back to the previously live generation", async () => {
    await page.click('[data-testid="rollback"]');
    await page.locator('[data-testid="live-2"]').waitFor();
    assert.equal(await message(page), `Rolled ${handle}/web back: generation 2 is live now.`);
    assert.equal((await admin.environment(web())).liveGeneration, 2);
    const last = (await admin.history(web())).at(-1);
    assert.deepEqual(
      [last?.kind, last?.previousGeneration, last?.currentGeneration],
      ["switch_generation", 1, 2],
    );
  });

  it("makes an environment public and private again", async () => {
    await page.click('[data-testid="toggle-visibility"]');
    await page.locator('[data-testid="visibility"]', { hasText: "public" }).waitFor();
    assert.equal(await page.locator('[data-testid="toggle-visibility"]').textContent(), "Make private");
    assert.equal((await admin.environment(web())).visibility, "public");
    const anonymous = new HubApiClient({ hubUrl: hub.url });
    assert.deepEqual((await anonymous.listEnvironments()).map((e) => e.name).sort(), ["tools", "web"]);
    await page.click('[data-testid="toggle-visibility"]');
    await page.locator('[data-testid="visibility"]', { hasText: "private" }).waitFor();
    assert.equal((await admin.environment(web())).visibility, "private");
  });

  it("compares two generations: packages upgraded, variables changed", async () => {
    await page.selectOption("#diff-from", "1");
    await page.selectOption("#diff-to", "2");
    await page.click('[data-testid="compare-button"]');
    await page.locator('[data-testid="diff-packages"]').waitFor();
    assert.deepEqual(await rowsOf(page, "diff-packages"), [["upgraded", "hello", HELLO, HELLO2]]);
    assert.deepEqual(await rowsOf(page, "diff-vars"), [["changed", "GREETING", "one", "two"]]);
    assert.equal(await page.locator('[data-testid="diff-scripts"]').textContent(), "No script changed.");
    await screenshot(page, "04-diff");
    // The other way round reads the other way.
    await page.goto(`${hub.url}/#/env/${handle}/web/diff/2/1`);
    await page.locator("h1", { hasText: "generation 2 → 1" }).waitFor();
    assert.deepEqual(await rowsOf(page, "diff-vars"), [["changed", "GREETING", "two", "one"]]);
  });

  it("deletes an environment only after its name is typed again; the hub keeps an audit event", async () => {
    await page.goto(`${hub.url}/#/env/${handle}/scratch`);
    await page.locator('[data-testid="danger-zone"]').waitFor();
    const remove = page.locator('[data-testid="delete"]');
    assert.equal(await remove.isDisabled(), true);
    await page.fill('[data-testid="delete-confirm"]', `${handle}/web`);
    assert.equal(await remove.isDisabled(), true);
    await page.fill('[data-testid="delete-confirm"]', `${handle}/scratch`);
    assert.equal(await remove.isEnabled(), true);
    await screenshot(page, "05-delete-confirm");
    await remove.click();
    await page.locator('[data-testid="environments"]').waitFor();
    assert.equal(await message(page), `Deleted ${handle}/scratch.`);
    assert.deepEqual((await rowsOf(page, "environments")).map((r) => r[0]).sort(), [
      `${handle}/tools`,
      `${handle}/web`,
    ]);
    await assert.rejects(admin.environment({ owner: handle, name: "scratch" }), (e) =>
      isErrorKind(e, "not-found"),
    );
    const events = await admin.audit(handle);
    assert.deepEqual(
      events.map((e) => [e.actor, e.action, e.target]),
      [[handle, "environment.deleted", `${handle}/scratch`]],
    );
    // The owner's list page shows the event too (the environment's own history went with it).
    const audit = await rowsOf(page, "audit");
    assert.deepEqual(
      audit.map((r) => [r[1], r[2], r[3]]),
      [[handle, "environment.deleted", `${handle}/scratch`]],
    );
    assert.match(audit[0]?.[4] ?? "", /^branch tip [0-9a-f]{40}, 1 generation, live 1$/);
    await screenshot(page, "05b-list-after-delete");
  });

  it("creates an organisation, adds a member, changes the role and removes the member", async () => {
    await page.fill("#org-name", "acme");
    await page.click('[data-testid="create-org"] >> button');
    await page.locator('[data-testid="members"]').waitFor();
    assert.equal(await message(page), "Organisation acme created; you are its owner.");
    assert.deepEqual(await rowsOf(page, "members").then((r) => r.map((c) => c.slice(0, 2))), [
      [handle, "owner"],
    ]);
    await page.fill("#member-handle", "bob");
    await page.selectOption("#member-role", "reader");
    await page.click('[data-testid="add-member-button"]');
    await page.locator('[data-testid="role-bob"]', { hasText: "reader" }).waitFor();
    await page.selectOption('[data-testid="role-select-bob"]', "writer");
    await page.click('[data-testid="role-save-bob"]');
    await page.locator('[data-testid="role-bob"]', { hasText: "writer" }).waitFor();
    assert.equal(await message(page), "bob is writer of acme now.");
    const members = async () => (await apiCall("GET", "/orgs/acme")) as { members: unknown };
    assert.deepEqual((await members()).members, [
      { handle, role: "owner" },
      { handle: "bob", role: "writer" },
    ]);
    await screenshot(page, "06-organisation");
    // The last owner cannot step down: the hub's one line is shown, nothing changes.
    await page.selectOption(`[data-testid="role-select-${handle}"]`, "reader");
    await page.click(`[data-testid="role-save-${handle}"]`);
    await page.locator("#message.error").waitFor();
    assert.match(
      (await message(page)) ?? "",
      new RegExp(
        `^Changing the role of ${handle} failed: "${handle}" is the last owner of organisation "acme"`,
      ),
    );
    await page.click('[data-testid="remove-bob"]');
    await page.locator('[data-testid="role-bob"]').waitFor({ state: "detached" });
    assert.deepEqual((await members()).members, [{ handle, role: "owner" }]);
  });

  it("creates a machine token shown once, which works until it is revoked there", async () => {
    await page.fill("#token-description", "ci deploys");
    await page.click('[data-testid="create-token-button"]');
    const text = (await page.locator('[data-testid="new-token-text"]').textContent()) ?? "";
    assert.match(text, /^flox_mt_[A-Za-z0-9_-]{43}$/);
    const machine = new HubApiClient({ hubUrl: hub.url, token: new Secret(text) });
    assert.deepEqual(await machine.me(), {
      handle: "acme",
      kind: "org-token",
      admin: false,
      orgs: [{ name: "acme", role: "writer" }],
    });
    const rows = await rowsOf(page, "machine-tokens");
    assert.deepEqual(
      rows.map((r) => [r[1], r[3], r[4]]),
      [["ci deploys", "active", "Revoke"]],
    );
    await screenshot(page, "07-machine-token-created");
    // Shown once: after leaving the page it is gone, only its id and description remain.
    await page.goto(`${hub.url}/#/`);
    await page.locator('[data-testid="orgs"]').waitFor();
    await page.click('[data-testid="orgs"] >> text=acme');
    await page.locator('[data-testid="machine-tokens"]').waitFor();
    assert.equal(await page.locator('[data-testid="new-token"]').count(), 0);
    assert.equal((await page.content()).includes(text), false);
    const id = rows[0]?.[0] ?? "";
    await page.click(`[data-testid="revoke-${id}"]`);
    await page.locator('[data-testid="machine-tokens"] >> text=revoked').waitFor();
    assert.equal(await message(page), `Machine token ${id} of acme is revoked.`);
    await assert.rejects(machine.me(), (e) => isErrorKind(e, "unauthorized"));
  });

  it("offers an organisation's writer switch and rollback, but not visibility, delete or member management", async () => {
    await seed(join(work, "acme-api"), { owner: "acme", name: "api" }, webManifest(HELLO, "one"));
    await seed(join(work, "acme-api"), { owner: "acme", name: "api" }, webManifest(HELLO2, "two"));
    await apiCall("PUT", "/orgs/acme/members/bob", { role: "writer" });
    await page.click("#sign-out-button");
    await page.fill("#token-input", bobToken);
    await page.click("#sign-in-button");
    await page.locator("#handle", { hasText: "bob" }).waitFor();
    assert.deepEqual(await header(page), { signIn: false, signedIn: true });
    await page.goto(`${hub.url}/#/env/acme/api`);
    await page.locator('[data-testid="packages"]').waitFor();
    assert.equal(await page.locator('[data-testid="rollback"]').isVisible(), true);
    assert.equal(await page.locator('[data-testid="switch-1"]').isVisible(), true);
    assert.equal(await page.locator('[data-testid="toggle-visibility"]').count(), 0);
    assert.equal(await page.locator('[data-testid="danger-zone"]').count(), 0);
    await screenshot(page, "08-environment-as-writer");
    await page.click('[data-testid="rollback"]');
    await page.locator('[data-testid="live-1"]').waitFor();
    assert.equal((await admin.environment({ owner: "acme", name: "api" })).liveGeneration, 1);
    assert.equal((await admin.history({ owner: "acme", name: "api" })).at(-1)?.author, "bob");
    await page.goto(`${hub.url}/#/org/acme`);
    await page.locator('[data-testid="members"]').waitFor();
    assert.deepEqual(await rowsOf(page, "members"), [
      [handle, "owner"],
      ["bob", "writer"],
    ]);
    assert.equal(await page.locator('[data-testid="add-member"]').count(), 0);
    assert.equal(await page.locator('[data-testid="create-token"]').count(), 0);
    await screenshot(page, "09-organisation-as-writer");
  });

  it("signs out, forgetting the token; the header shows only the sign-in form; no page errors", async () => {
    await page.click("#sign-out-button");
    await page.locator("#sign-in").waitFor({ state: "visible" });
    assert.deepEqual(await header(page), { signIn: true, signedIn: false });
    assert.equal(await page.evaluate("localStorage.getItem('imageless.token')"), null);
    assert.deepEqual(pageErrors, []);
  });
});

/** An API call as the admin (organisation calls have no typed client; the CLI's is argv-shaped). */
async function apiCall(method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${hub.url}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${hub.adminToken}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  assert.equal(response.ok, true, `${method} ${path}: ${text}`);
  return JSON.parse(text) as unknown;
}
