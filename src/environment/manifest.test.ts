import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { floxFixturesDir } from "../../test/harness/repo-root.js";
import { ImagelessError } from "../errors/imageless-error.js";
import { manifestFromLock, parseLockfile } from "./lockfile.js";
import { parseManifestToml } from "./manifest.js";

const ENVS = join(floxFixturesDir(), "envs");
const read = (env: string, file: string) => readFileSync(join(ENVS, env, file), "utf8");
const HEREDOC_HOOK = "    cat << EOF\n    running on-activate\n    EOF\n";

describe("parseManifestToml()", () => {
  it("parses every conformance manifest.toml", () => {
    for (const env of readdirSync(ENVS))
      parseManifestToml(read(env, "manifest.toml"), `${env}/manifest.toml`);
  });

  it("keeps the heredocs hook and profile text exactly", () => {
    const m = parseManifestToml(read("heredocs", "manifest.toml"), "heredocs");
    assert.equal(m.hook.onActivate, HEREDOC_HOOK);
    assert.equal(m.profile.tcsh, "    cat << EOF\n    running profile-tcsh\n    EOF\n");
    assert.equal(m.profile.fish, undefined);
    assert.equal(m.schemaVersion, "1");
  });

  it("reads install, systems and schema-version of go_gcc", () => {
    const m = parseManifestToml(read("go_gcc", "manifest.toml"), "go_gcc");
    assert.equal(m.schemaVersion, "1.14.0");
    assert.deepEqual(Object.keys(m.install), ["go", "gcc", "clang"]);
    assert.deepEqual(m.options.systems, ["aarch64-linux", "x86_64-linux", "aarch64-darwin", "x86_64-darwin"]);
  });

  it("keeps vars in file order and reads activate mode and services", () => {
    const m = parseManifestToml(
      '[vars]\nZ = "1"\nA = "$Z"\nM = "x"\n[options]\nactivate.mode = "run"\n[services.web]\ncommand = "serve"\n',
      "t",
    );
    assert.deepEqual(Object.entries(m.vars), [
      ["Z", "1"],
      ["A", "$Z"],
      ["M", "x"],
    ]);
    assert.equal(m.options.activateMode, "run");
    assert.deepEqual(JSON.parse(JSON.stringify(m.services)), { web: { command: "serve" } });
  });

  const bad: [string, RegExp][] = [
    ["[vars]\nA = 1\n", /t: vars\.A must be a string, not number 1/],
    [
      '[options]\nactivate.mode = "prod"\n',
      /options\.activate\.mode cannot be "prod": accepted values are "run" and "dev"/,
    ],
    ['[options]\nsystems = "x86_64-linux"\n', /options\.systems must be a list of strings/],
    ["[hook]\non-activate = 3\n", /hook\.on-activate must be a string/],
    ['install = "x"\n', /\[install\] must be a table/],
    ["not toml [", /t: not valid TOML/],
  ];
  for (const [text, message] of bad) {
    it(`refuses ${JSON.stringify(text)} as invalid-input`, () => {
      assert.throws(
        () => parseManifestToml(text, "t"),
        (e: unknown) => e instanceof ImagelessError && e.kind === "invalid-input" && message.test(e.message),
      );
    });
  }

  it("throws only ImagelessError on arbitrary text", () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          parseManifestToml(text, "fuzz");
        } catch (error) {
          assert.ok(error instanceof ImagelessError);
        }
      }),
    );
  });
});

describe("manifestFromLock()", () => {
  it("parses every conformance lock's embedded manifest", () => {
    for (const env of readdirSync(ENVS)) manifestFromLock(parseLockfile(read(env, "manifest.lock"), env));
  });

  it("gives the same hook text from the heredocs lock as from its TOML", () => {
    const m = manifestFromLock(parseLockfile(read("heredocs", "manifest.lock"), "heredocs"));
    assert.equal(m.hook.onActivate, HEREDOC_HOOK);
  });

  it("throws only ImagelessError on arbitrary embedded manifests", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (manifest) => {
        const text = JSON.stringify({ "lockfile-version": 1, manifest, packages: [] });
        try {
          manifestFromLock(parseLockfile(text, "fuzz"));
        } catch (error) {
          assert.ok(error instanceof ImagelessError);
        }
      }),
    );
  });
});
