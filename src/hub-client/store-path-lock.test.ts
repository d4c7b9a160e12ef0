import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseLockfile, selectPackages } from "../environment/lockfile.js";
import { ImagelessError } from "../errors/imageless-error.js";
import { lockStorePathManifest } from "./store-path-lock.js";

const HELLO = "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-hello-1.0";
const BB = "/nix/store/abcdfghijklmnpqrsvwxyz0123456789-busybox";
const opts = { localSystem: "x86_64-linux", source: "manifest.toml" };

describe("lockStorePathManifest()", () => {
  const cases: {
    name: string;
    manifest: Record<string, unknown>;
    entries: [string, string, string, number][];
  }[] = [
    {
      name: "locks each package for the local system when the manifest names no systems",
      manifest: { version: 1, install: { hello: { "store-path": HELLO } } },
      entries: [["hello", HELLO, "x86_64-linux", 5]],
    },
    {
      name: "locks for every options.systems entry",
      manifest: {
        version: 1,
        install: { hello: { "store-path": HELLO, priority: 3 } },
        options: { systems: ["x86_64-linux", "aarch64-linux"] },
      },
      entries: [
        ["hello", HELLO, "x86_64-linux", 3],
        ["hello", HELLO, "aarch64-linux", 3],
      ],
    },
    {
      name: "a package's own systems win over options.systems",
      manifest: {
        version: 1,
        install: { hello: { "store-path": HELLO }, bb: { "store-path": BB, systems: ["aarch64-linux"] } },
        options: { systems: ["x86_64-linux"] },
      },
      entries: [
        ["hello", HELLO, "x86_64-linux", 5],
        ["bb", BB, "aarch64-linux", 5],
      ],
    },
    { name: "an empty manifest gives an empty lock", manifest: { version: 1 }, entries: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const lock = lockStorePathManifest(c.manifest, opts);
      assert.equal(lock["lockfile-version"], 1);
      assert.deepEqual(lock.manifest, c.manifest);
      assert.deepEqual(
        lock.packages,
        c.entries.map(([install_id, store_path, system, priority]) => ({
          install_id,
          store_path,
          system,
          priority,
        })),
      );
    });
  }

  it("produces a lock the runtime's parser accepts and selects", () => {
    const lock = lockStorePathManifest(
      { version: 1, install: { hello: { "store-path": HELLO } }, vars: { A: "b" } },
      opts,
    );
    const parsed = parseLockfile(JSON.stringify(lock), "lock");
    const [pkg] = selectPackages(parsed, "x86_64-linux");
    assert.equal(pkg?.kind, "store-path");
    assert.deepEqual(pkg?.outputs, { out: HELLO });
  });

  it("refuses catalog and flake packages, naming them and what to do", () => {
    const manifest = {
      install: { hello: { "store-path": HELLO }, jq: { "pkg-path": "jq" }, f: { flake: "github:a/b" } },
    };
    assert.throws(
      () => lockStorePathManifest(manifest, opts),
      (e: unknown) =>
        e instanceof ImagelessError &&
        e.kind === "invalid-input" &&
        e.message ===
          "manifest.toml has catalog or flake packages ('jq', 'f') and no manifest.lock: lock it with Flox (flox install, flox edit or flox upgrade) before pushing; only store-path packages are locked here",
    );
  });

  it("refuses a malformed store path and priority", () => {
    assert.throws(
      () => lockStorePathManifest({ install: { x: { "store-path": "/tmp/x" } } }, opts),
      /install\.x\.store-path cannot be "\/tmp\/x"/,
    );
    assert.throws(
      () => lockStorePathManifest({ install: { x: { "store-path": HELLO, priority: -1 } } }, opts),
      /install\.x\.priority cannot be -1/,
    );
  });
});
