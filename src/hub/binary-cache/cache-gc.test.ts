import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { planGc } from "./cache-gc.js";

describe("planGc()", () => {
  const path = (hash: string, references: string[], file: string, mtimeMs = 0) => ({
    hash,
    references,
    url: `nar/${file}`,
    mtimeMs,
  });
  it("planGc() keeps the closures of locked paths, young uploads and the NARs they name; removes the rest", () => {
    const plan = planGc(
      [
        {
          owner: "acme",
          roots: new Set(["app"]),
          paths: [
            path("app", ["lib"], "app.nar"),
            path("lib", [], "shared.nar"),
            path("old", [], "old.nar"),
            path("new", [], "new.nar", 95),
          ],
        },
        // bob's copy of lib is locked by none of bob's environments: acme's lock keeps only acme's.
        { owner: "bob", roots: new Set(["acme-only"]), paths: [path("lib", [], "shared.nar")] },
      ],
      [
        { file: "app.nar", size: 1, mtimeMs: 0 },
        { file: "shared.nar", size: 2, mtimeMs: 0 },
        { file: "old.nar", size: 3, mtimeMs: 0 },
        { file: "new.nar", size: 4, mtimeMs: 0 },
        { file: "orphan.nar", size: 5, mtimeMs: 0 },
        { file: "arriving.nar", size: 6, mtimeMs: 99 },
      ],
      { now: 100, graceMs: 10 },
    );
    assert.deepEqual(plan, {
      narInfos: [
        { owner: "acme", hash: "old" },
        { owner: "bob", hash: "lib" },
      ],
      nars: [
        { file: "old.nar", size: 3 },
        { file: "orphan.nar", size: 5 },
      ],
    });
  });
});
