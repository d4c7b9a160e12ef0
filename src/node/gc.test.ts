import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { StorePath } from "../nix/store-path.js";
import { planGc } from "./gc.js";
import type { CachedProfile } from "./status.js";

const path = (c: string) => `/nix/store/${c.repeat(32)}-imageless-profile` as StorePath;
const profile = (key: string, c: string, lastUsedMs: number): CachedProfile => ({
  key,
  storePath: path(c),
  lastUsedMs,
});
const HOUR = 3_600_000;

describe("planGc()", () => {
  it("frees what no container uses and was last used keep-unused ago or longer; never what is in use", () => {
    const now = 100 * HOUR;
    const profiles = [
      profile("old-unused", "a", now - 72 * HOUR),
      profile("recent-unused", "b", now - 71 * HOUR),
      profile("old-in-use", "c", now - 1000 * HOUR),
      profile("recent-in-use", "d", now),
    ];
    const plan = planGc(profiles, new Set([path("c"), path("d")]), { now, keepUnusedMs: 72 * HOUR });
    assert.deepEqual(
      { free: plan.free.map((p) => p.key), keep: plan.keep.map((p) => p.key) },
      { free: ["old-unused"], keep: ["recent-unused", "old-in-use", "recent-in-use"] },
    );
  });
  it("with keep-unused 0 frees every unused profile", () => {
    const plan = planGc([profile("x", "a", 5), profile("y", "b", 5)], new Set([path("b")]), {
      now: 5,
      keepUnusedMs: 0,
    });
    assert.deepEqual(
      plan.free.map((p) => p.key),
      ["x"],
    );
  });
});
