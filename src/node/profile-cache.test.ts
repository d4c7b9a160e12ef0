import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { ProfileLink } from "../environment/profile-links.js";
import type { StorePath } from "../nix/store-path.js";
import { profileCache, profileKey } from "./profile-cache.js";

const HELLO = "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-hello" as StorePath;
const BASH = "/nix/store/zyxwvsrqpnmlkjihgfdcba9876543210-bash" as StorePath;
const pkg = (installId: string, out: StorePath, priority = 5): ProfileLink => ({
  installId,
  priority,
  paths: [out],
});

describe("profileKey()", () => {
  it("does not depend on package order", () => {
    const a = profileKey([pkg("hello", HELLO), pkg("bash", BASH)], "flox-env-run", {});
    const b = profileKey([pkg("bash", BASH), pkg("hello", HELLO)], "flox-env-run", {});
    assert.equal(a, b);
  });
  it("changes with a priority, an output, the name or a generated file", () => {
    const base = profileKey([pkg("hello", HELLO)], "flox-env-run", {});
    assert.notEqual(profileKey([pkg("hello", HELLO, 4)], "flox-env-run", {}), base);
    assert.notEqual(profileKey([pkg("hello", BASH)], "flox-env-run", {}), base);
    assert.notEqual(profileKey([pkg("hello", HELLO)], "flox-env-dev", {}), base);
    assert.notEqual(profileKey([pkg("hello", HELLO)], "flox-env-run", { "a/b": { content: "x" } }), base);
  });
});

describe("profileCache()", () => {
  it("returns a remembered profile only while its store path exists", async () => {
    const dir = await mkdtemp(join(tmpdir(), "imageless-profiles-"));
    try {
      const cache = profileCache(join(dir, "state"), dir);
      assert.equal(await cache.lookup("k"), undefined);
      await cache.remember("k", HELLO);
      assert.equal(await cache.lookup("k"), undefined, "the path is not in the store");
      await mkdir(join(dir, "nix", "store"), { recursive: true });
      await writeFile(join(dir, HELLO), "");
      assert.equal(await cache.lookup("k"), HELLO);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
