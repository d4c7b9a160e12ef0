import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { type NixStore, storeArgs } from "./nix-store.js";
import { runNix } from "./run-nix.js";

/**
 * Why this exists: Nix 2.8 creates a store's database the first time any Nix process opens the store,
 * without a lock of its own. Two processes opening a fresh store root at once both create it: the
 * loser reads the `schema` file the winner has created but not yet written and fails with
 * "…/nix/var/nix/db/schema is corrupt" (2–3 of 30 concurrent `nix-store` calls here), or meets the
 * winner's transaction ("db.sqlite is busy"). So the first use of a store root is serialised across
 * processes (the wrapper runs one process per container start): `nix-store --init` runs under a
 * flock(2) on {@link storeInitLockPath}; the others wait, then find the store made. The kernel
 * releases the lock of a killed holder, so a start killed mid-init blocks nobody. Once `schema` holds
 * a version number nothing is locked again.
 */

/** Where the lock lives: beside Nix's own state, so every user of this store root finds it. */
export function storeInitLockPath(storeRoot: string): string {
  return join(storeRoot, "nix", "var", "imageless-store-init.lock");
}

const initialised = new Map<string, Promise<void>>();

/** True once the store root's database carries a schema version (Nix writes it after creating the db). */
async function hasSchema(storeRoot: string): Promise<boolean> {
  try {
    return /^\d+$/.test(
      (await readFile(join(storeRoot, "nix", "var", "nix", "db", "schema"), "utf8")).trim(),
    );
  } catch {
    return false;
  }
}

/**
 * Makes sure the store at `store.storeRoot` exists and is initialised, so the concurrent Nix processes
 * that follow never race to create it. Cheap once done: one `schema` read per process.
 *
 * @throws {ImagelessError} whatever `nix-store --init` throws (e.g. an unwritable store root).
 * @example
 * await ensureStoreReady(store); // then realise, build, query as usual
 */
export function ensureStoreReady(store: NixStore): Promise<void> {
  const root = store.storeRoot;
  // One initialisation per root per process (the node agent serves many starts at once).
  let ready = initialised.get(root);
  if (ready === undefined) {
    ready = initialise(store);
    initialised.set(root, ready);
    ready.catch(() => initialised.delete(root));
  }
  return ready;
}

async function initialise(store: NixStore): Promise<void> {
  const root = store.storeRoot;
  if (await hasSchema(root)) return;
  await mkdir(join(root, "nix", "var"), { recursive: true });
  // Idempotent: a process that gets the lock after the first holder finds the store made.
  await runNix("nix-store", ["--init", ...storeArgs(store)], {
    action: `initialising the Nix store at ${root}`,
    lockFile: storeInitLockPath(root),
  });
}
