import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ImagelessError } from "../errors/imageless-error.js";
import type { StorePath } from "../nix/store-path.js";
import { configShellPaths, isBashStorePath, type LocateBashDeps, locateBash } from "./shell.js";

const HASH = "0123456789abcdfghijklmnpqrsvwxyz";
const sp = (name: string): StorePath => `/nix/store/${HASH}-${name}` as StorePath;

describe("isBashStorePath()", () => {
  const cases: [string, boolean][] = [
    ["bash-5.2p37", true],
    ["bash-interactive-5.2p37", true],
    ["bash-completion-2.11", false],
    ["bashInteractive", false],
    ["hello-1.0", false],
  ];
  for (const [name, expected] of cases) {
    it(`isBashStorePath() is ${expected} for ${name}`, () =>
      assert.equal(isBashStorePath(sp(name)), expected));
  }
});

describe("configShellPaths()", () => {
  it("configShellPaths() takes a package path or its bin/bash", () => {
    assert.deepEqual(configShellPaths(sp("bash-5.2")), {
      storePath: sp("bash-5.2"),
      bash: `${sp("bash-5.2")}/bin/bash`,
    });
    assert.deepEqual(configShellPaths(`${sp("bash-5.2")}/bin/bash`), {
      storePath: sp("bash-5.2"),
      bash: `${sp("bash-5.2")}/bin/bash`,
    });
  });
  it("configShellPaths() rejects a path outside the store, naming it", () => {
    assert.throws(
      () => configShellPaths("/usr/bin/bash"),
      (error: unknown) => error instanceof ImagelessError && error.message.includes('"/usr/bin/bash"'),
    );
  });
});

describe("locateBash()", () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), "imageless-shell-"));
    for (const name of ["tools-1.0", "bash-5.2"])
      await mkdir(join(root, sp(name), "bin"), { recursive: true });
    await writeFile(join(root, sp("tools-1.0"), "bin", "bash"), "");
    await writeFile(join(root, sp("bash-5.2"), "bin", "bash"), "");
    await mkdir(join(root, sp("hello-1.0")), { recursive: true });
  });
  after(() => rm(root, { recursive: true, force: true }));

  const deps = (over: Partial<LocateBashDeps> = {}): LocateBashDeps => ({
    storeRoot: root,
    configShell: "",
    closure: async () => [],
    realise: async () => ({}),
    ...over,
  });

  it("locateBash() takes a package output's bin/bash first", async () => {
    const found = await locateBash([sp("hello-1.0"), sp("tools-1.0")], sp("env"), "env x", deps());
    assert.deepEqual(found, { bash: `${sp("tools-1.0")}/bin/bash`, source: "environment" });
  });
  it("locateBash() then looks for a bash package in the closure", async () => {
    const found = await locateBash(
      [sp("hello-1.0")],
      sp("env"),
      "env x",
      deps({ closure: async () => [sp("hello-1.0"), sp("bash-5.2")] }),
    );
    assert.deepEqual(found, { bash: `${sp("bash-5.2")}/bin/bash`, source: "closure" });
  });
  it("locateBash() then realises [runtime] shell", async () => {
    const realised: StorePath[][] = [];
    const found = await locateBash(
      [sp("hello-1.0")],
      sp("env"),
      "env x",
      deps({
        configShell: sp("bash-9"),
        realise: async (paths) => {
          realised.push([...paths]);
        },
      }),
    );
    assert.deepEqual(found, {
      bash: `${sp("bash-9")}/bin/bash`,
      source: "config",
      configStorePath: sp("bash-9"),
    });
    assert.deepEqual(realised, [[sp("bash-9")]]);
  });
  it("locateBash() fails saying how to provide bash", async () => {
    await assert.rejects(
      locateBash([sp("hello-1.0")], sp("env"), "environment acme/x generation 2 (hook.on-activate)", deps()),
      (error: unknown) =>
        error instanceof ImagelessError &&
        error.kind === "failed-precondition" &&
        /acme\/x generation 2 \(hook\.on-activate\) needs bash/.test(error.message) &&
        /\[runtime\] shell/.test(error.message),
    );
  });
});
