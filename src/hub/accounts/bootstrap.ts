import type { Secret } from "../../log/secret.js";
import { parseOwner } from "../../names/environment-names.js";
import type { AccountRecord } from "../db/hub-store.js";
import { type HubStoreOptions, openHubStore } from "../db/open-hub-store.js";
import { loadOrCreateJwtSecret } from "../tokens/jwt-secret.js";
import { createTokenService } from "../tokens/token-service.js";

/** A user created on the hub's database directly, with their first token. */
export interface BootstrappedUser {
  readonly handle: string;
  readonly admin: boolean;
  readonly tokenId: string;
  readonly token: Secret;
  /** Unix milliseconds. */
  readonly expiresAt: number;
}

/**
 * Creates a user directly in the hub's database (run on the hub's machine: no hub, no token needed)
 * and issues their first user token. This is how the first admin comes to exist.
 *
 * @throws {ImagelessError} `invalid-input` for a bad handle, `failed-precondition` when it is taken.
 * @example
 * const { token } = await createUserDirect({ dataDir }, "admin", { admin: true });
 */
export async function createUserDirect(
  where: HubStoreOptions,
  handle: string,
  opts: { admin: boolean; now?: () => number },
): Promise<BootstrappedUser> {
  const valid = parseOwner(handle, "handle");
  const now = opts.now ?? Date.now;
  const store = await openHubStore(where);
  try {
    const user = await store.createUser(valid, opts.admin, now());
    const tokens = createTokenService({ store, secret: await loadOrCreateJwtSecret(where.dataDir), now });
    const issued = await tokens.issueUserToken(user, "created by imageless hub user create");
    return {
      handle: user.handle,
      admin: user.admin,
      tokenId: issued.id,
      token: issued.token,
      expiresAt: issued.expiresAt ?? 0,
    };
  } finally {
    await store.close();
  }
}

/** Every user in the hub's database, read directly. */
export async function listUsersDirect(where: HubStoreOptions): Promise<AccountRecord[]> {
  const store = await openHubStore(where);
  try {
    return await store.listAccounts("user");
  } finally {
    await store.close();
  }
}
