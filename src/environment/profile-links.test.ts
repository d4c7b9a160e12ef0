import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { StorePath } from "../nix/store-path.js";
import type { SelectedPackage } from "./lockfile.js";
import { profileLinks, propagatedLinks } from "./profile-links.js";

const sp = (name: string): StorePath => `/nix/store/${"a".repeat(32)}-${name}` as StorePath;
const pkg = (installId: string, outputs: Record<string, StorePath>, extra: Partial<SelectedPackage> = {}) =>
  ({
    installId,
    kind: "catalog",
    priority: 5,
    group: "toplevel",
    outputs,
    allOutputs: outputs,
    ...extra,
  }) as SelectedPackage;

describe("profileLinks()", () => {
  it("profileLinks() links a package's outputs together at its priority", () => {
    assert.deepEqual(profileLinks([pkg("bash", { out: sp("bash"), man: sp("bash-man") })]), [
      { installId: "bash", priority: 5, paths: [sp("bash"), sp("bash-man")] },
    ]);
  });
  it("profileLinks() links an output with a priority of its own alone (lockfile v1)", () => {
    const bash = pkg("bash", { dev: sp("bash-dev"), out: sp("bash") }, { outputPriorities: { dev: 5000 } });
    assert.deepEqual(profileLinks([bash]), [
      { installId: "bash", priority: 5, paths: [sp("bash")] },
      { installId: "bash", priority: 5000, paths: [sp("bash-dev")] },
    ]);
  });
  it("profileLinks() links a store path installed under two ids once, for the first id", () => {
    const links = profileLinks([pkg("hello", { out: sp("hello") }), pkg("greeting", { out: sp("hello") })]);
    assert.deepEqual(links, [{ installId: "hello", priority: 5, paths: [sp("hello")] }]);
  });
  it("profileLinks() skips a package that links no output", () => {
    assert.deepEqual(profileLinks([pkg("x", {})]), []);
  });
});

describe("propagatedLinks()", () => {
  const lib = { installId: "lib", priority: 5, paths: [sp("lib")] };
  it("propagatedLinks() links propagated paths recursively at 1000 × priority + n, collisions ignored", () => {
    const propagated = new Map([
      [sp("lib"), [sp("zlib"), sp("b-dep"), sp("cuda-stubs")]],
      [sp("zlib"), [sp("inner"), sp("lib")]],
    ]);
    assert.deepEqual(propagatedLinks([lib], propagated, 2), [
      { installId: "lib", priority: 5002, paths: [sp("b-dep")], ignoreCollisions: true },
      { installId: "lib", priority: 5003, paths: [sp("zlib")], ignoreCollisions: true },
      // A path propagated by a propagated one: its propagator's number (5003) + the counter (4).
      { installId: "lib", priority: 5007, paths: [sp("inner")], ignoreCollisions: true },
    ]);
  });
  it("propagatedLinks() adds nothing for an installed path or without propagated inputs", () => {
    const other = { installId: "other", priority: 5, paths: [sp("zlib")] };
    assert.deepEqual(propagatedLinks([lib, other], new Map([[sp("lib"), [sp("zlib")]]]), 0), []);
    assert.deepEqual(propagatedLinks([lib], new Map(), 0), []);
  });
});
