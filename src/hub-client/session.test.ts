import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ImagelessError } from "../errors/imageless-error.js";
import { Secret } from "../log/secret.js";
import { credentialsPath, readCredentials, removeCredentials, writeCredentials } from "./credentials.js";
import { chooseSession, loadSession } from "./session.js";

describe("chooseSession()", () => {
  const saved = { hubUrl: "http://hub.example:7878", token: new Secret("saved-token") };
  const cases: { name: string; flag?: string; envToken?: string; hub: string; token?: string }[] = [
    { name: "uses the saved hub and its token", hub: "http://hub.example:7878", token: "saved-token" },
    {
      name: "sends the saved token to the same hub given by --hub",
      flag: "http://hub.example:7878/",
      hub: "http://hub.example:7878",
      token: "saved-token",
    },
    {
      name: "never sends the saved token to another hub",
      flag: "http://other.example",
      hub: "http://other.example",
    },
    {
      name: "sends $IMAGELESS_TOKEN to the chosen hub",
      flag: "http://other.example",
      envToken: "env-token",
      hub: "http://other.example",
      token: "env-token",
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const s = chooseSession(c.flag, saved, c.envToken);
      assert.equal(s.hubUrl, c.hub);
      assert.equal(s.token?.reveal(), c.token);
    });
  }
  it("defaults to hub.flox.dev without anything saved", () => {
    assert.deepEqual(chooseSession(undefined, undefined, undefined), { hubUrl: "https://hub.flox.dev" });
  });
});

describe("credentials", () => {
  let dir: string;
  let env: Record<string, string | undefined>;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "imageless-creds-"));
    env = { XDG_CONFIG_HOME: dir };
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes 0600 TOML, reads it back, lets $IMAGELESS_HUB/$IMAGELESS_TOKEN override, removes it", async () => {
    assert.equal(await readCredentials(env), undefined);
    const path = await writeCredentials(
      { hubUrl: "http://127.0.0.1:7878/", token: new Secret("tok-1") },
      env,
    );
    assert.equal(path, join(dir, "imageless", "credentials.toml"));
    assert.equal(credentialsPath(env), path);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.match(await readFile(path, "utf8"), /hub = "http:\/\/127\.0\.0\.1:7878"/);
    const read = await readCredentials(env);
    assert.equal(read?.hubUrl, "http://127.0.0.1:7878");
    assert.equal(read?.token.reveal(), "tok-1");
    const over = await readCredentials({ ...env, IMAGELESS_TOKEN: "tok-2", IMAGELESS_HUB: "http://h2" });
    assert.equal(over?.token.reveal(), "tok-2");
    assert.equal(over?.hubUrl, "http://h2");
    const session = await loadSession(undefined, env);
    assert.equal(session.token?.reveal(), "tok-1");
    assert.equal((await loadSession("http://elsewhere", env)).token, undefined);
    assert.equal(await removeCredentials(env), true);
    assert.equal(await removeCredentials(env), false);
    assert.equal(await readCredentials(env), undefined);
  });

  it("reports a broken file without quoting its content", async () => {
    const path = await writeCredentials({ hubUrl: "http://h", token: new Secret("x") }, env);
    const { writeFile } = await import("node:fs/promises");
    await writeFile(path, 'token = "secret-value\n');
    await assert.rejects(
      readCredentials(env),
      (e: unknown) =>
        e instanceof ImagelessError && e.kind === "invalid-input" && !e.message.includes("secret-value"),
    );
    await removeCredentials(env);
  });
});
