import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { HubStore } from "./hub-store.js";
import { type MemoStore, memoizeStore } from "./memo-store.js";
import { openHubStore } from "./open-hub-store.js";

// Two stores on one real SQLite file: `direct` plays another process writing the database (the
// `hub user create` CLI, or an operator), `memo` is what the hub serves from.
describe("memoizeStore()", () => {
  let dir: string;
  let direct: HubStore;
  let memo: MemoStore;
  let clock = 1_000;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "memo-store-"));
    direct = await openHubStore({ dataDir: dir });
    memo = memoizeStore(await openHubStore({ dataDir: dir }), { now: () => clock, ttlMs: 5_000 });
  });
  after(async () => {
    await memo.close();
    await direct.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("forgets a lookup on every write through it: a revocation and a visibility change show on the next lookup", async () => {
    const alice = await memo.createUser("alice", false, 1);
    await memo.insertToken({ id: "tok_1", hash: "h1", kind: "user", accountId: alice.id, createdAt: 1 });
    await memo.recordPush("alice", "web", 2);
    assert.equal((await memo.tokenByHash("h1"))?.revokedAt, undefined);
    assert.equal((await memo.environment("alice", "web"))?.visibility, "private");
    assert.equal(await memo.revokeToken("tok_1", alice.id, 3), true);
    assert.equal((await memo.tokenByHash("h1"))?.revokedAt, 3);
    assert.equal(await memo.setVisibility("alice", "web", "public", 4), true);
    assert.equal((await memo.environment("alice", "web"))?.visibility, "public");
  });

  it("remembers records that exist for at most the TTL when another process changes them", async () => {
    assert.equal((await memo.environment("alice", "web"))?.visibility, "public");
    await direct.setVisibility("alice", "web", "private", 5);
    assert.equal((await memo.environment("alice", "web"))?.visibility, "public");
    clock += 5_001;
    assert.equal((await memo.environment("alice", "web"))?.visibility, "private");
  });

  it("never remembers an absence: an account created by another process is found at once", async () => {
    assert.equal(await memo.accountByHandle("bob"), undefined);
    await direct.createUser("bob", false, 6);
    assert.equal((await memo.accountByHandle("bob"))?.handle, "bob");
  });

  it("does not remember a lookup that ran while a write finished", async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const visibility = { value: "public" as "public" | "private" };
    const slow = memoizeStore(
      {
        ...direct,
        environment: async (owner, name) => {
          const seen = visibility.value;
          await gate;
          return { owner, name, visibility: seen, createdAt: 1, updatedAt: 1 };
        },
        setVisibility: async (_owner, _name, value) => {
          visibility.value = value;
          return true;
        },
      },
      { now: () => clock },
    );
    const reading = slow.environment("alice", "web"); // reads "public", then waits
    await slow.setVisibility("alice", "web", "private", 7);
    release();
    assert.equal((await reading)?.visibility, "public");
    assert.equal((await slow.environment("alice", "web"))?.visibility, "private");
  });
});
