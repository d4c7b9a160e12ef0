import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { lockEntry } from "../../test/harness/nix-fixtures.js";
import { parseLockfile } from "../environment/lockfile.js";
import type { StorePath } from "../nix/store-path.js";
import { lockStorePaths } from "./env-push.js";

const A = "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-a" as StorePath;
const B = "/nix/store/abcdfghijklmnpqrsvwxyz0123456789-b" as StorePath;

describe("lockStorePaths()", () => {
  it("lists every store path of store-path and catalog entries once, sorted, any system", () => {
    const lock = parseLockfile(
      JSON.stringify({
        "lockfile-version": 1,
        manifest: { version: 1 },
        packages: [
          { install_id: "b", store_path: B, system: "x86_64-linux", priority: 5 },
          { install_id: "b", store_path: B, system: "aarch64-linux", priority: 5 },
          lockEntry("a", A),
        ],
      }),
      "lock",
    );
    assert.deepEqual(lockStorePaths(lock), [A, B]);
  });
});
