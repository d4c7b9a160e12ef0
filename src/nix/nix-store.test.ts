import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { realPath, storeArgs } from "./nix-store.js";
import type { StorePath } from "./store-path.js";

const base = { substituters: [], trustedPublicKeys: [], requireSigs: true };
const path = "/nix/store/00000000000000000000000000000000-hello" as StorePath;

describe("storeArgs()", () => {
  it("names the chroot store only when the root is not /", () => {
    assert.deepEqual(storeArgs({ ...base, storeRoot: "/tmp/s" }).slice(0, 2), [
      "--store",
      "local?root=/tmp/s",
    ]);
    assert.ok(!storeArgs({ ...base, storeRoot: "/" }).includes("--store"));
  });

  it("always sets substituters, even to none, so Nix never falls back to cache.nixos.org", () => {
    const args = storeArgs({ ...base, storeRoot: "/" });
    assert.deepEqual(args.slice(args.indexOf("substituters") - 1, args.indexOf("substituters") + 2), [
      "--option",
      "substituters",
      "",
    ]);
  });

  it("joins caches and keys with spaces and spells require-sigs", () => {
    const args = storeArgs({
      storeRoot: "/",
      substituters: ["https://a", "file:///b"],
      trustedPublicKeys: ["a-1:x", "b-1:y"],
      requireSigs: false,
    });
    const option = (name: string) => args[args.indexOf(name) + 1];
    assert.equal(option("substituters"), "https://a file:///b");
    assert.equal(option("trusted-public-keys"), "a-1:x b-1:y");
    assert.equal(option("require-sigs"), "false");
  });
});

describe("realPath()", () => {
  it("maps a store path under a chroot store's root and leaves the host store alone", () => {
    assert.equal(realPath({ ...base, storeRoot: "/tmp/s" }, path), `/tmp/s${path}`);
    assert.equal(realPath({ ...base, storeRoot: "/" }, path), path);
  });
});
