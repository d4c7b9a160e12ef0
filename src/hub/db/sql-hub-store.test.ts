import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isErrorKind } from "../../errors/imageless-error.js";
import type { HubStore } from "./hub-store.js";
import { openHubStore } from "./open-hub-store.js";

// A real SQLite file in a temp directory (the PostgreSQL run is test/integration/hub-api.test.ts).
describe("createSqlHubStore() on SQLite", () => {
  let dir: string;
  let store: HubStore;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "hub-store-"));
    store = await openHubStore({ dataDir: dir });
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("createOrg() makes the creator owner; names are unique across users and orgs", async () => {
    const alice = await store.createUser("alice", false, 1);
    const acme = await store.createOrg("acme", alice.id, 2);
    assert.deepEqual(await store.membersOf(acme.id), [{ handle: "alice", role: "owner" }]);
    await assert.rejects(store.createUser("acme", false, 3), (e) => isErrorKind(e, "failed-precondition"));
    await assert.rejects(store.createOrg("alice", alice.id, 3), (e) => isErrorKind(e, "failed-precondition"));
    assert.deepEqual(await store.orgsOf(alice.id), [{ name: "acme", role: "owner" }]);
  });

  it("openHubStore() migrates once: a second open of the same file works", async () => {
    const again = await openHubStore({ dataDir: dir });
    assert.equal((await again.accountByHandle("alice"))?.handle, "alice");
    await again.close();
  });

  it("revokeToken() revokes once and only the account's own token", async () => {
    const alice = await store.accountByHandle("alice");
    assert.ok(alice);
    await store.insertToken({
      id: "tok_a",
      hash: "f".repeat(64),
      kind: "user",
      accountId: alice.id,
      createdAt: 5,
      expiresAt: 9,
    });
    assert.equal(await store.revokeToken("tok_a", "acc_other", 6), false);
    assert.equal(await store.revokeToken("tok_a", alice.id, 6), true);
    assert.equal(await store.revokeToken("tok_a", alice.id, 7), false);
    assert.deepEqual(await store.tokenByHash("f".repeat(64)), {
      id: "tok_a",
      kind: "user",
      accountId: alice.id,
      createdAt: 5,
      expiresAt: 9,
      revokedAt: 6,
    });
  });

  it("recordPush() creates private environments and only updates the time later", async () => {
    await store.recordPush("acme", "web", 10);
    assert.equal(await store.setVisibility("acme", "web", "public", 11), true);
    await store.recordPush("acme", "web", 12);
    assert.deepEqual(await store.environment("acme", "web"), {
      owner: "acme",
      name: "web",
      visibility: "public",
      createdAt: 10,
      updatedAt: 12,
    });
    assert.equal(await store.setVisibility("acme", "nope", "public", 13), false);
  });

  it("deleteEnvironment() removes the index row and records the event together, once", async () => {
    await store.recordPush("acme", "gone", 20);
    const event = {
      at: 21,
      actor: "alice",
      action: "environment.deleted",
      owner: "acme",
      target: "acme/gone",
      detail: "tip abc",
    };
    assert.equal(await store.deleteEnvironment("acme", "gone", event), true);
    assert.equal(await store.environment("acme", "gone"), undefined);
    assert.equal(await store.deleteEnvironment("acme", "gone", { ...event, at: 22 }), false);
    assert.deepEqual(await store.auditEvents("acme"), [event]);
    assert.deepEqual(await store.auditEvents("alice"), []);
  });
});
