/**
 * The first use of a fresh store root by many Nix processes at once (each container start is its own
 * process): without ensureStoreReady some fail with "…/nix/var/nix/db/schema is corrupt".
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { NixStore } from "../../src/nix/nix-store.js";
import { invalidPaths } from "../../src/nix/realise.js";
import { ensureStoreReady, storeInitLockPath } from "../../src/nix/store-init.js";
import type { StorePath } from "../../src/nix/store-path.js";
import { makeTempDir, removeTree } from "../harness/temp.js";

const PROCESSES = 30;
const ROUNDS = 3;
const ABSENT = "/nix/store/00000000000000000000000000000000-absent" as StorePath;

let work: string;
before(async () => {
  work = await makeTempDir("store-init");
});
after(() => removeTree(work));

describe("ensureStoreReady()", () => {
  for (let round = 1; round <= ROUNDS; round++) {
    it(`lets ${PROCESSES} Nix processes start together on a fresh store root (round ${round})`, async () => {
      const store: NixStore = {
        storeRoot: join(work, `root-${round}`),
        substituters: [],
        trustedPublicKeys: [],
        requireSigs: true,
      };
      // Each call is what one container start does first: make sure of the store, then ask Nix.
      const results = await Promise.allSettled(
        Array.from({ length: PROCESSES }, async () => {
          await ensureStoreReady(store);
          return invalidPaths([ABSENT], store);
        }),
      );
      const failures = results.flatMap((r) => (r.status === "rejected" ? [String(r.reason)] : []));
      assert.deepEqual(failures, []);
      for (const r of results) assert.deepEqual(r.status === "fulfilled" ? r.value : undefined, [ABSENT]);
      assert.ok(storeInitLockPath(store.storeRoot).startsWith(store.storeRoot));
    });
  }
});
