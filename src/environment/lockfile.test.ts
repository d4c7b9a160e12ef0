import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { floxFixturesDir } from "../../test/harness/repo-root.js";
import { ImagelessError } from "../errors/imageless-error.js";
import { isCustomCatalogPath, parseLockfile, selectPackages } from "./lockfile.js";

const ENVS = join(floxFixturesDir(), "envs");
const readLock = (env: string) =>
  parseLockfile(readFileSync(join(ENVS, env, "manifest.lock"), "utf8"), `conformance ${env}/manifest.lock`);

/** Linked outputs per install id on x86_64-linux, read once from the conformance locks by hand. */
const EXPECTED: Record<string, Record<string, string[]>> = {
  bash: { bash: ["debug", "dev", "doc", "info", "man", "out"] },
  bash_v1_10_0_all: { bash: ["debug", "dev", "doc", "info", "man", "out"] },
  bash_v1_10_0_default: { bash: ["man", "out"] },
  bash_v1_10_0_out: { bash: ["out"] },
  gcc_boost: { boost: ["dev", "out"], gcc: ["man", "out"], "gcc-unwrapped": ["lib"] },
  go_gcc: { gcc: ["info", "man", "out"], go: ["out"] },
  hello: { hello: ["out"] },
  hello_as_greeting: { greeting: ["out"] },
  hello_other_pkg_group: { hello: ["out"] },
  heredocs: {},
  pip: { pip: ["dist", "man", "out"] },
};

const storePath = (name: string) => `/nix/store/${"a".repeat(32)}-${name}`;
function lockText(packages: object[], manifest: object = {}): string {
  return JSON.stringify({ "lockfile-version": 1, manifest, packages });
}

describe("parseLockfile()", () => {
  it("parses every conformance lock", () => {
    const envs = readdirSync(ENVS);
    assert.ok(envs.length >= 12);
    for (const env of envs) assert.equal(readLock(env).lockfileVersion, 1, env);
  });

  it("refuses lockfile-version 0 and 2 as unsupported, naming the version and the input", () => {
    for (const version of [0, 2]) {
      assert.throws(
        () =>
          parseLockfile(
            JSON.stringify({ "lockfile-version": version, manifest: {}, packages: [] }),
            "x.lock",
          ),
        (e: unknown) =>
          e instanceof ImagelessError &&
          e.kind === "unsupported" &&
          e.message.includes(`lockfile-version ${version}`) &&
          e.message.startsWith("x.lock"),
      );
    }
  });

  it("refuses a non-store path output", () => {
    const text = lockText([{ install_id: "a", system: "x86_64-linux", outputs: { out: "/usr/bin" } }]);
    assert.throws(
      () => parseLockfile(text, "x.lock"),
      /x\.lock: packages\[0\]\.outputs\.out cannot be "\/usr\/bin"/,
    );
  });

  it("throws only ImagelessError on arbitrary JSON", () => {
    const entry = fc.record(
      {
        install_id: fc.oneof(fc.string(), fc.integer()),
        system: fc.constantFrom("x86_64-linux", "aarch64-darwin", 3),
        outputs: fc.oneof(
          fc.dictionary(fc.string(), fc.constantFrom(storePath("x"), "bad", 1)),
          fc.anything(),
        ),
        store_path: fc.oneof(fc.constant(storePath("s")), fc.anything()),
        "locked-url": fc.anything(),
        priority: fc.anything(),
        group: fc.anything(),
        outputs_to_install: fc.anything(),
      },
      { requiredKeys: [] },
    );
    const lock = fc.record(
      {
        "lockfile-version": fc.oneof(fc.constant(1), fc.anything()),
        manifest: fc.oneof(fc.constant({}), fc.anything()),
        packages: fc.oneof(fc.array(entry), fc.anything()),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(lock, fc.jsonValue()), (value) => {
        try {
          selectPackages(parseLockfile(JSON.stringify(value) ?? "", "fuzz.lock"), "x86_64-linux");
        } catch (error) {
          assert.ok(error instanceof ImagelessError, String(error));
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe("selectPackages()", () => {
  for (const [env, expected] of Object.entries(EXPECTED)) {
    it(`selects the x86_64-linux package set of ${env}`, () => {
      const selected = selectPackages(readLock(env), "x86_64-linux");
      const got = Object.fromEntries(selected.map((p) => [p.installId, Object.keys(p.outputs).sort()]));
      assert.deepEqual(got, expected);
      for (const p of selected) {
        assert.equal(p.kind, "catalog");
        assert.equal(p.priority, 5);
        for (const [name, path] of Object.entries(p.outputs)) assert.equal(p.allOutputs[name], path);
      }
    });
  }

  it("keeps the package group and version", () => {
    const [hello] = selectPackages(readLock("hello_other_pkg_group"), "x86_64-linux");
    assert.equal(hello?.group, "other");
    assert.equal(hello?.version, "2.12.3");
    assert.equal(hello?.pname, "hello");
  });

  it("gives every bash output in allOutputs whatever is linked", () => {
    for (const env of ["bash_v1_10_0_all", "bash_v1_10_0_default", "bash_v1_10_0_out"]) {
      const [bash] = selectPackages(readLock(env), "x86_64-linux");
      assert.equal(Object.keys(bash?.allOutputs ?? {}).length, 6, env);
    }
  });

  it("refuses the flake package as unsupported, naming it and its flake ref", () => {
    assert.throws(
      () => selectPackages(readLock("flake_hello"), "x86_64-linux"),
      (e: unknown) =>
        e instanceof ImagelessError &&
        e.kind === "unsupported" &&
        e.message.includes("package 'hello' is a flake (github:NixOS/nixpkgs/nixpkgs-unstable#hello)") &&
        e.message.includes("not supported yet"),
    );
  });

  it("refuses a system missing from options.systems, naming the locked systems", () => {
    assert.throws(
      () => selectPackages(readLock("hello"), "riscv64-linux"),
      (e: unknown) =>
        e instanceof ImagelessError &&
        e.kind === "unsupported" &&
        e.message.includes("riscv64-linux") &&
        e.message.includes("aarch64-darwin, aarch64-linux, x86_64-darwin, x86_64-linux"),
    );
  });

  it("refuses a package the lock has only for other systems", () => {
    assert.throws(
      () => selectPackages(readLock("bash"), "x86_64-darwin"),
      /package 'bash' is not locked for x86_64-darwin: it is locked for aarch64-darwin, aarch64-linux, x86_64-linux/,
    );
  });

  it("honours per-package systems (clang only on darwin)", () => {
    const ids = selectPackages(readLock("go_gcc"), "aarch64-darwin").map((p) => p.installId);
    assert.deepEqual(ids.sort(), ["clang", "go"]);
  });

  it("selects a store-path entry with its single out output", () => {
    const path = storePath("tool-1.0");
    const lock = parseLockfile(
      lockText([{ install_id: "tool", store_path: path, system: "x86_64-linux", priority: 3 }], {
        install: { tool: { "store-path": path } },
      }),
      "x.lock",
    );
    assert.deepEqual(selectPackages(lock, "x86_64-linux"), [
      {
        installId: "tool",
        kind: "store-path",
        priority: 3,
        group: "toplevel",
        outputs: { out: path },
        allOutputs: { out: path },
      },
    ]);
  });

  it("refuses a custom-catalog package as unsupported", () => {
    const lock = parseLockfile(
      lockText([{ install_id: "q", system: "x86_64-linux", outputs: { out: storePath("q") }, priority: 5 }], {
        install: { q: { "pkg-path": "flox/quotes-app-go" } },
      }),
      "x.lock",
    );
    assert.throws(
      () => selectPackages(lock, "x86_64-linux"),
      (e: unknown) =>
        e instanceof ImagelessError && e.kind === "unsupported" && e.message.includes("flox/quotes-app-go"),
    );
  });

  // builder.pl: a manifest with `version = 1` links every output except `stubs`; outputs_to_install at
  // the package's priority, each other output at 1000 × priority + a counter running over the lock.
  it("links every output but stubs for a version 1 manifest, the others at 1000 × priority + n", () => {
    const bash = JSON.parse(readFileSync(join(ENVS, "bash_v1_10_0_default", "manifest.lock"), "utf8"));
    const x86 = bash.packages.filter((p: { system: string }) => p.system === "x86_64-linux");
    const [entry] = x86;
    const packages = [
      { ...entry, outputs: { ...entry.outputs, stubs: storePath("bash-stubs") } },
      { ...entry, install_id: "bash2", priority: 3 },
    ];
    const lock = parseLockfile(
      lockText(packages, {
        version: 1,
        install: { bash: { "pkg-path": "bash" }, bash2: { "pkg-path": "bash" } },
      }),
      "v1.lock",
    );
    const [first, second] = selectPackages(lock, "x86_64-linux");
    assert.deepEqual(Object.keys(first?.outputs ?? {}), ["debug", "dev", "doc", "info", "man", "out"]);
    assert.deepEqual(first?.outputPriorities, { debug: 5000, dev: 5001, doc: 5002, info: 5003 });
    assert.deepEqual(second?.outputPriorities, { debug: 3004, dev: 3005, doc: 3006, info: 3007 });
    assert.equal(first?.priority, 5);
  });

  const schema: [string, object, string[]][] = [
    ["the descriptor's list", { outputs: ["dev"] }, ["dev"]],
    ['all of them for "all"', { outputs: "all" }, ["a", "dev", "out"]],
    ["outputs_to_install without a list", {}, ["out"]],
  ];
  for (const [name, descriptor, expected] of schema) {
    it(`links ${name} for a schema-version manifest`, () => {
      const outputs = { a: storePath("x-a"), dev: storePath("x-dev"), out: storePath("x") };
      const lock = parseLockfile(
        lockText([{ install_id: "x", system: "x86_64-linux", outputs, outputs_to_install: ["out"] }], {
          "schema-version": "1.10.0",
          install: { x: { "pkg-path": "x", ...descriptor } },
        }),
        "s.lock",
      );
      const [x] = selectPackages(lock, "x86_64-linux");
      assert.deepEqual(Object.keys(x?.outputs ?? {}).sort(), expected);
      assert.equal(x?.outputPriorities, undefined);
    });
  }
  it("links nothing for a schema-version package with neither outputs nor outputs_to_install", () => {
    const lock = parseLockfile(
      lockText([{ install_id: "x", system: "x86_64-linux", outputs: { out: storePath("x") } }], {
        "schema-version": "1.10.0",
        install: { x: { "pkg-path": "x" } },
      }),
      "s.lock",
    );
    assert.deepEqual(selectPackages(lock, "x86_64-linux")[0]?.outputs, {});
  });

  it("refuses a requested output the lock does not have", () => {
    const lock = parseLockfile(
      lockText([{ install_id: "a", system: "x86_64-linux", outputs: { out: storePath("a") } }], {
        install: { a: { "pkg-path": "a", outputs: ["lib"] } },
      }),
      "x.lock",
    );
    assert.throws(
      () => selectPackages(lock, "x86_64-linux"),
      /package 'a' has no output 'lib': its outputs are out/,
    );
  });
});

describe("isCustomCatalogPath()", () => {
  const cases: [string | string[], boolean][] = [
    ["flox/quotes-app-go", true],
    ["myorg/tools.hello", true],
    ["python312Packages.pip", false],
    ["hello", false],
    ["python3.pkgs/x", false],
    [["flox/x", "y"], true],
    [["hello"], false],
  ];
  for (const [path, expected] of cases) {
    it(`isCustomCatalogPath(${JSON.stringify(path)}) is ${expected}`, () => {
      assert.equal(isCustomCatalogPath(path), expected);
    });
  }
});
