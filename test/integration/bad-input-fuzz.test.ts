/**
 * Everything a pod author, an environment's author or an operator hands the node runtime, fuzzed with
 * fast-check: pod annotations and environment references, manifest.toml, manifest.lock,
 * metadata.json, the node config and runc's argv. Each parser either returns or throws the project's
 * typed ImagelessError (one line, never a TypeError or RangeError from deep inside), and returns at
 * all: a hang would stop this file. Inputs are shaped like the real thing (known keys and near-valid
 * values mixed with junk) so they get past the first check. Prints the number of cases run.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import fc from "fast-check";
import { stringify } from "smol-toml";
import { manifestFromLock, parseLockfile, selectPackages } from "../../src/environment/lockfile.js";
import { parseManifestToml } from "../../src/environment/manifest.js";
import { ImagelessError } from "../../src/errors/imageless-error.js";
import { parseGenerationsMetadata } from "../../src/floxhub/metadata.js";
import { parseNodeConfig } from "../../src/node/config.js";
import { parseEnvironmentRef, parsePodPolicy } from "../../src/pod/policy.js";
import { parseRuncArgv } from "../../src/runc/argv.js";

const RUNS = 3000;
let total = 0;
after(() => process.stderr.write(`# bad-input fuzz: ${total} cases run\n`));

/** Runs `fn` on every generated input: it may return or throw an ImagelessError with a one-line message. */
function onlyTypedErrors<T>(arbitrary: fc.Arbitrary<T>, fn: (input: T) => unknown, runs = RUNS): void {
  fc.assert(
    fc.property(arbitrary, (input) => {
      total++;
      try {
        fn(input);
      } catch (error) {
        assert.ok(error instanceof ImagelessError, `${String(error)} for ${JSON.stringify(input)}`);
        assert.ok(!error.message.includes("\n"), `a multi-line message: ${error.message}`);
      }
    }),
    { numRuns: runs },
  );
}

const junk = fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.constantFrom("", " ", "\0", "\n", "💥"));
const json: fc.Arbitrary<unknown> = fc.jsonValue();
/** A value of any JSON type, often one a field would accept. */
const near = (...valid: unknown[]) => fc.oneof(fc.constantFrom(...valid), json);

describe("pod annotations and environment references", () => {
  const ref = fc.oneof(
    junk,
    fc
      .tuple(
        fc.constantFrom("acme", "a", "-x", "a_b", "", "ÄÖ", "a/b"),
        fc.constantFrom("/", "//", ":", ""),
        fc.constantFrom("web", "w.b", "..", ".lock", "x".repeat(300), ""),
        fc.constantFrom("", ":1", ":0", ":-1", ":01", ":1e3", ":99999999999999999999", ": 1", ":x"),
      )
      .map((parts) => parts.join("")),
  );
  it("parseEnvironmentRef() returns or throws ImagelessError", () =>
    onlyTypedErrors(ref, parseEnvironmentRef));
  it("parsePodPolicy() returns or throws ImagelessError", () => {
    const keys = fc.constantFrom(
      "flox.dev/environment",
      "flox.dev/activate-mode",
      "flox.dev/nix-mutable",
      "flox.dev/disable-metrics",
      "flox.dev/skip-containers",
      "flox.dev/skip-containers-exec",
      "flox.dev/resolved-store-path",
      "io.kubernetes.cri.container-type",
      "io.kubernetes.cri.container-name",
      "__proto__",
      "constructor",
    );
    const value = fc.oneof(
      ref,
      fc.constantFrom("true", "FALSE", " true ", "dev", "run", "sandbox", "container", "a,b, ,c"),
    );
    onlyTypedErrors(fc.dictionary(fc.oneof(keys, fc.string()), value, { maxKeys: 8 }), (annotations) =>
      parsePodPolicy(annotations),
    );
  });
});

describe("environment files", () => {
  it("parseManifestToml() returns or throws ImagelessError", () => {
    const table = fc.dictionary(
      fc.oneof(
        fc.constantFrom("version", "install", "vars", "hook", "profile", "options", "services", "include"),
        fc.string(),
      ),
      fc.oneof(
        fc.dictionary(
          fc.string(),
          fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.dictionary(fc.string(), fc.string())),
        ),
        fc.string(),
        fc.integer(),
      ),
      { maxKeys: 6 },
    );
    onlyTypedErrors(
      fc.oneof(
        junk,
        table.map((t) => stringify(t)),
      ),
      (text) => parseManifestToml(text, "manifest.toml"),
    );
  });

  it("parseLockfile(), selectPackages() and manifestFromLock() return or throw ImagelessError", () => {
    const pkg = fc.record(
      {
        install_id: near("hello", ""),
        attr_path: near("hello"),
        system: near("x86_64-linux", "aarch64-darwin"),
        outputs: near({ out: "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-hello" }, {}, { out: "relative" }),
        outputs_to_install: near(["out"], ["dev"], []),
        priority: near(5, -1, 1e308),
        locked_url: near("https://github.com/flox/nixpkgs", "flake:x"),
        derivation: near("/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-hello.drv"),
      },
      { requiredKeys: [] },
    );
    const lock = fc.record(
      {
        "lockfile-version": near(1, 0, 2),
        manifest: near(
          { version: 1, install: { hello: { "pkg-path": "hello" } }, options: { systems: ["x86_64-linux"] } },
          {},
        ),
        packages: fc.oneof(fc.array(pkg, { maxLength: 4 }), json),
      },
      { requiredKeys: [] },
    );
    onlyTypedErrors(
      fc.oneof(
        junk,
        lock.map((l) => JSON.stringify(l)),
      ),
      (text) => {
        const parsed = parseLockfile(text, "manifest.lock");
        manifestFromLock(parsed);
        selectPackages(parsed, "x86_64-linux");
      },
    );
  });

  it("parseGenerationsMetadata() returns or throws ImagelessError", () => {
    const entry = fc.record(
      {
        kind: near("push", "switch"),
        author: near("alice"),
        hostname: near("h"),
        timestamp: near("2026-01-01T00:00:00Z", 0),
        current_generation: near("1", "0", "-1", "x", 1),
        previous_generation: near("1", null),
        summary: near("s"),
      },
      { requiredKeys: [] },
    );
    const meta = fc.record(
      {
        version: near(1, 2, 3),
        total_generations: near(1, -1),
        history: fc.oneof(fc.array(entry, { maxLength: 4 }), json),
        currentGen: near(1, "1"),
        generations: near({ "1": { created: 0 } }, []),
      },
      { requiredKeys: [] },
    );
    onlyTypedErrors(
      fc.oneof(
        junk,
        meta.map((m) => JSON.stringify(m)),
      ),
      (text) => parseGenerationsMetadata(text, "metadata.json"),
    );
  });
});

describe("node config and runc argv", () => {
  it("parseNodeConfig() returns a frozen config or throws ImagelessError", () => {
    const value = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.array(
        fc.oneof(fc.string(), fc.integer(), fc.constantFrom("https://hub.example/x", "http://127.0.0.2:1")),
      ),
      fc.constantFrom("24h", "/abs", "https://hub.example/cache", "store", "closure", "0s", "-1h"),
    );
    const keys = fc.constantFrom(
      "url",
      "git-url",
      "token-file",
      "cache-url",
      "offline-grace",
      "store-root",
      "substituters",
      "mount",
      "runc",
      "state-dir",
      "keep-unused",
    );
    // Unknown keys and tables too: they are warned about, never a crash.
    const doc = fc.dictionary(
      fc.constantFrom("floxhub", "nix", "runtime", "gc", "telemetry", "other"),
      fc.dictionary(fc.oneof(keys, fc.string()), value, { maxKeys: 5 }),
    );
    onlyTypedErrors(
      fc.oneof(
        junk,
        doc.map((d) => stringify(d)),
      ),
      (text) => assert.ok(Object.isFrozen(parseNodeConfig(text, "config.toml").config), "a frozen config"),
    );
  });

  it("parseRuncArgv() returns or throws ImagelessError", () => {
    const token = fc.oneof(
      fc.constantFrom(
        "create",
        "exec",
        "delete",
        "start",
        "--bundle",
        "-b",
        "--bundle=",
        "--log",
        "--log-format",
        "json",
        "--root",
        "--process",
        "-p",
        "--pid-file",
        "--",
        "-",
        "--help",
        "--debug",
        "--console-socket",
        "-d",
      ),
      fc.string(),
    );
    onlyTypedErrors(fc.array(token, { maxLength: 10 }), (argv) => parseRuncArgv(argv));
  });
});
