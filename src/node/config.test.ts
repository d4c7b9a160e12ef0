import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ImagelessError } from "../errors/imageless-error.js";
import { configPathFromEnv, DEFAULT_CONFIG_PATH, loadNodeConfig, parseNodeConfig } from "./config.js";

const SOURCE = "/etc/imageless/config.toml";

function rejects(text: string, message: string, opts: { strict?: boolean } = {}): void {
  assert.throws(
    () => parseNodeConfig(text, SOURCE, opts),
    (error: unknown) => {
      assert.ok(error instanceof ImagelessError, String(error));
      assert.equal(error.kind, "invalid-input");
      assert.equal(error.message, message);
      return true;
    },
  );
}

// Arbitrary text and TOML are fuzzed with the other inputs in test/integration/bad-input-fuzz.test.ts.
describe("parseNodeConfig()", () => {
  it("applies every default of SPEC §7 to an empty file", () => {
    const { config, warnings } = parseNodeConfig("", SOURCE);
    assert.deepEqual(warnings, []);
    assert.deepEqual(config, {
      floxhub: {
        url: "https://hub.flox.dev",
        gitUrl: "",
        tokenFile: "",
        cacheUrl: "",
        offlineGraceMs: 86_400_000,
      },
      nix: {
        storeRoot: "/",
        substituters: ["https://cache.nixos.org", "https://cache.flox.dev"],
        trustedPublicKeys: [
          "cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY=",
          "flox-cache-public-1:7F4OyH7ZCnFhcze3fJdfyXYLQw/aV7GEed86nQ7IsOs=",
        ],
        requireSigs: true,
      },
      runtime: {
        runc: "",
        stateDir: "/var/lib/imageless",
        mount: "store",
        shell: "",
        agentSocket: "/run/imageless/agent.sock",
        cacert: "",
        locales: "",
      },
      gc: { keepUnusedMs: 259_200_000 },
      telemetry: { enabled: true, endpoint: "" },
    });
  });

  it("reads every key of SPEC §7", () => {
    const text = `
[floxhub]
url = "http://127.0.0.1:7878"
git-url = "file:///srv/floxmeta"
token-file = "/etc/imageless/token"
cache-url = "http://127.0.0.1:7878/cache/"
offline-grace = "1h30m"

[nix]
store-root = "/tmp/store"
substituters = ["file:///tmp/cache"]
trusted-public-keys = ["test-1:AAAA+/=="]
require-sigs = false

[runtime]
runc = "/usr/sbin/runc"
state-dir = "/run/imageless"
mount = "closure"
shell = "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-bash-5.2/bin/bash"
agent-socket = "/run/test/agent.sock"
cacert = "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-nss-cacert-3.98"
locales = "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-glibc-locales-2.40"

[gc]
keep-unused = "30m"

[telemetry]
enabled = false
endpoint = "https://telemetry.example/v1/events"
`;
    const { config, warnings } = parseNodeConfig(text, SOURCE);
    assert.deepEqual(warnings, []);
    assert.deepEqual(config, {
      floxhub: {
        url: "http://127.0.0.1:7878",
        gitUrl: "file:///srv/floxmeta",
        tokenFile: "/etc/imageless/token",
        cacheUrl: "http://127.0.0.1:7878/cache",
        offlineGraceMs: 5_400_000,
      },
      nix: {
        storeRoot: "/tmp/store",
        substituters: ["file:///tmp/cache"],
        trustedPublicKeys: ["test-1:AAAA+/=="],
        requireSigs: false,
      },
      runtime: {
        runc: "/usr/sbin/runc",
        stateDir: "/run/imageless",
        mount: "closure",
        shell: "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-bash-5.2/bin/bash",
        agentSocket: "/run/test/agent.sock",
        cacert: "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-nss-cacert-3.98",
        locales: "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-glibc-locales-2.40",
      },
      gc: { keepUnusedMs: 1_800_000 },
      telemetry: { enabled: false, endpoint: "https://telemetry.example/v1/events" },
    });
  });

  it("returns a deeply frozen value", () => {
    const { config } = parseNodeConfig("", SOURCE);
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.nix));
    assert.ok(Object.isFrozen(config.nix.substituters));
  });

  it("does not share arrays between parses", () => {
    const a = parseNodeConfig("", SOURCE).config.nix.trustedPublicKeys;
    const b = parseNodeConfig("", SOURCE).config.nix.trustedPublicKeys;
    assert.notEqual(a, b);
  });

  const badValues: ReadonlyArray<readonly [string, string]> = [
    [
      '[runtime]\nmount = "all"',
      `config ${SOURCE}: [runtime] mount: cannot use "all": accepted values are "store" and "closure"`,
    ],
    [
      "[runtime]\nmount = 1",
      `config ${SOURCE}: [runtime] mount: cannot use 1: accepted values are "store" and "closure"`,
    ],
    [
      '[nix]\nrequire-sigs = "yes"',
      `config ${SOURCE}: [nix] require-sigs: cannot use "yes": accepted values are true and false`,
    ],
    [
      '[runtime]\nrunc = "runc"',
      `config ${SOURCE}: [runtime] runc: cannot use "runc": accepted values are "" or an absolute path`,
    ],
    [
      '[runtime]\nstate-dir = ""',
      `config ${SOURCE}: [runtime] state-dir: cannot use "": accepted value is an absolute path`,
    ],
    [
      '[floxhub]\nurl = "hub.flox.dev"',
      `config ${SOURCE}: [floxhub] url: cannot use "hub.flox.dev": accepted value is a URL`,
    ],
    [
      "[floxhub]\ngit-url = []",
      `config ${SOURCE}: [floxhub] git-url: cannot use an array: accepted values are "" or a URL`,
    ],
    [
      '[floxhub]\noffline-grace = "1 day"',
      `config ${SOURCE}: [floxhub] offline-grace: cannot use "1 day": accepted form is a duration like "24h", "30m", "90s" or "1h30m" (units d, h, m, s, ms)`,
    ],
    [
      "[gc]\nkeep-unused = 72",
      `config ${SOURCE}: [gc] keep-unused: cannot use 72: accepted form is a duration like "24h", "30m", "90s" or "1h30m"`,
    ],
    [
      '[nix]\nsubstituters = "https://cache.nixos.org"',
      `config ${SOURCE}: [nix] substituters: cannot use "https://cache.nixos.org": accepted value is a list of URLs`,
    ],
    [
      '[nix]\nsubstituters = ["https://a", 3]',
      `config ${SOURCE}: [nix] substituters[1]: cannot use 3: accepted value is a list of URLs`,
    ],
    [
      '[nix]\ntrusted-public-keys = ["no-colon"]',
      `config ${SOURCE}: [nix] trusted-public-keys[0]: cannot use "no-colon": accepted value is a list of keys like "name-1:base64="`,
    ],
    [
      "[telemetry]\nenabled = 1979-05-27T07:32:00Z",
      `config ${SOURCE}: [telemetry] enabled: cannot use a date-time: accepted values are true and false`,
    ],
    ['runtime = "x"', `config ${SOURCE}: [runtime]: cannot use "x": accepted value is a table`],
    [
      '[floxhub]\ncache-url = "file:///srv/cache"',
      `config ${SOURCE}: [floxhub] cache-url: cannot use "file:///srv/cache": accepted values are "" or an http:// or https:// URL`,
    ],
    [
      '[floxhub]\ncache-url = "https://hub.example/cache"\n[nix]\nsubstituters = ["https://cache.nixos.org", "http://hub.example:8080/other"]',
      `config ${SOURCE}: [nix] substituters[1]: cannot use "http://hub.example:8080/other": a substituter may not be on the host of [floxhub] cache-url (hub.example), which receives pods' tokens: serve it from another host name or remove it`,
    ],
  ];
  for (const [text, message] of badValues) {
    it(`rejects ${JSON.stringify(text)} naming the key, value and what is accepted`, () =>
      rejects(text, message));
  }

  it("rejects bad TOML with a one-line message and position", () => {
    assert.throws(
      () => parseNodeConfig("[runtime\nmount =", SOURCE),
      (error: unknown) =>
        error instanceof ImagelessError &&
        error.kind === "invalid-input" &&
        error.message.startsWith(`config ${SOURCE}: not valid TOML: `) &&
        /\(line \d+, column \d+\)$/.test(error.message) &&
        !error.message.includes("\n"),
    );
  });

  it("warns about unknown keys and tables by default", () => {
    const { config, warnings } = parseNodeConfig(
      '[runtime]\nmount = "closure"\nmonut = 1\n[extra]\n',
      SOURCE,
    );
    assert.equal(config.runtime.mount, "closure");
    assert.deepEqual(warnings, [
      `config ${SOURCE}: unknown key [extra]: accepted tables are [floxhub], [nix], [runtime], [gc] and [telemetry]`,
      `config ${SOURCE}: unknown key [runtime] monut: accepted keys are "runc", "state-dir", "mount", "shell", "agent-socket", "cacert" and "locales"`,
    ]);
  });

  it("rejects unknown keys when strict", () => {
    rejects("[gc]\nkeep = 1", `config ${SOURCE}: unknown key [gc] keep: accepted keys are "keep-unused"`, {
      strict: true,
    });
  });

  it("treats __proto__ as an unknown key, not as the prototype", () => {
    const { config, warnings } = parseNodeConfig('[runtime]\n__proto__ = { mount = "closure" }\n', SOURCE);
    assert.equal(config.runtime.mount, "store");
    assert.equal(warnings.length, 1);
  });
});

describe("loadNodeConfig()", () => {
  it("reads an explicit file and names it in messages", async () => {
    const dir = await mkdtemp(join(tmpdir(), "imageless-config-"));
    try {
      const path = join(dir, "config.toml");
      await writeFile(path, '[runtime]\nmount = "closure"\nextra = 1\n');
      const { config, warnings } = await loadNodeConfig(path);
      assert.equal(config.runtime.mount, "closure");
      assert.match(warnings[0] ?? "", new RegExp(`^config ${path}: unknown key \\[runtime\\] extra`));
      await assert.rejects(loadNodeConfig(path, { strict: true }), {
        name: "ImagelessError",
        kind: "invalid-input",
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("rejects a missing explicit path", async () => {
    await assert.rejects(loadNodeConfig("/nonexistent/imageless/config.toml"), (error: unknown) => {
      return (
        error instanceof ImagelessError &&
        error.kind === "not-found" &&
        error.message.startsWith("config /nonexistent/imageless/config.toml: no such file")
      );
    });
  });

  it("reports a directory as unreadable", async () => {
    await assert.rejects(loadNodeConfig(tmpdir()), { name: "ImagelessError", kind: "failed-precondition" });
  });
});

describe("configPathFromEnv()", () => {
  it("uses IMAGELESS_CONFIG when set and non-empty", () => {
    assert.equal(configPathFromEnv({ IMAGELESS_CONFIG: "/x.toml" }), "/x.toml");
    assert.equal(configPathFromEnv({ IMAGELESS_CONFIG: "" }), undefined);
    assert.equal(configPathFromEnv({}), undefined);
  });

  it("names the default path", () => {
    assert.equal(DEFAULT_CONFIG_PATH, "/etc/imageless/config.toml");
  });
});
