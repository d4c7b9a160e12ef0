import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CommitCache } from "./commit-cache.js";

describe("CommitCache", () => {
  it("CommitCache.get() loads once per key and evicts the least recently used", async () => {
    const cache = new CommitCache(2);
    const loads: string[] = [];
    const get = (key: string) =>
      cache.get(key, async () => {
        loads.push(key);
        return key.toUpperCase();
      });
    assert.equal(await get("a"), "A");
    await get("b");
    await get("a"); // a is now the most recent
    await get("c"); // evicts b
    await get("a");
    await get("b");
    assert.deepEqual(loads, ["a", "b", "c", "b"]);
  });
  it("CommitCache.get() does not keep a failed load", async () => {
    const cache = new CommitCache(4);
    await assert.rejects(cache.get("k", async () => Promise.reject(new Error("git failed"))));
    assert.equal(await cache.get("k", async () => "ok"), "ok");
  });
  it("CommitCache.get() evicts the least recently used when the loaded values weigh more than maxBytes", async () => {
    const cache = new CommitCache(10, { maxBytes: 10 });
    const loads: string[] = [];
    const get = (key: string) =>
      cache.get(
        key,
        async () => {
          loads.push(key);
          return key.repeat(4);
        },
        (value) => value.length,
      );
    await get("a");
    await get("b");
    await get("c"); // 12 bytes: evicts a
    await get("b");
    await get("a");
    assert.deepEqual(loads, ["a", "b", "c", "a"]);
  });
});
