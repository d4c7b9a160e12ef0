import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { StorePath } from "../nix/store-path.js";
import { judgePath } from "./cache-outcome.js";

const LOCAL = {
  path: "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-a" as StorePath,
  narHash: "sha256:1",
  narSize: 1,
};

describe("judgePath()", () => {
  const cases: [string, string | undefined, boolean, ReturnType<typeof judgePath>][] = [
    ["uploaded and held with the same NarHash", "sha256:1", true, "copied"],
    ["skipped by nix and held with the same NarHash", "sha256:1", false, "present"],
    ["held with another NarHash, uploaded or not", "sha256:2", false, "different"],
    ["held with another NarHash although nix sent it", "sha256:2", true, "different"],
    ["not held after the upload", undefined, true, "missing"],
  ];
  for (const [name, cached, uploaded, expected] of cases) {
    it(`judgePath() calls a path ${name} "${expected}"`, () =>
      assert.equal(judgePath(LOCAL, cached, uploaded), expected));
  }
});
