/**
 * The hub store with its per-request lookups remembered: every git lookup and API read asks for the
 * caller's token, account, role and the environment's visibility, and the answers change only when
 * someone writes. Rules:
 * - every write through this store forgets everything, once it has finished, so a revocation, a
 *   visibility or membership change holds from the very next request on;
 * - a lookup that was running while a write finished is not remembered (it may have read the old row);
 * - only records that exist are remembered: an absent one may be created by another process
 *   (`hub user create` writes the database directly), and existing ones change only through the
 *   hub's API, i.e. through this store;
 * - nothing is remembered longer than `ttlMs`, which bounds what a change made by another process
 *   (a second hub on the same PostgreSQL, an operator's SQL) can leave stale.
 */
import type { HubStore } from "./hub-store.js";

/** How long a remembered record may be used at most, when no write through the hub forgot it first. */
export const DEFAULT_MEMO_TTL_MS = 5_000;

/** A {@link HubStore} remembering its lookups, plus how many writes it has seen. */
export interface MemoStore extends HubStore {
  /** Incremented after every write: anything derived from the store before it is stale. */
  writes(): number;
}

/**
 * Wraps `store`; `now` is the clock in ms, `limit` bounds the number of remembered records.
 *
 * @example
 * const store = memoizeStore(await openHubStore({ dataDir }), { now: Date.now });
 */
export function memoizeStore(
  store: HubStore,
  opts: { now: () => number; ttlMs?: number; limit?: number },
): MemoStore {
  const ttlMs = opts.ttlMs ?? DEFAULT_MEMO_TTL_MS;
  const limit = opts.limit ?? 10_000;
  const entries = new Map<string, { value: unknown; until: number }>();
  let writes = 0;

  const lookup =
    <A extends string[], T>(kind: string, read: (...args: A) => Promise<T | undefined>) =>
    async (...args: A): Promise<T | undefined> => {
      const key = `${kind}\0${args.join("\0")}`;
      const now = opts.now();
      const hit = entries.get(key);
      if (hit !== undefined && hit.until > now) return hit.value as T;
      const before = writes;
      const value = await read(...args);
      if (value !== undefined && writes === before) {
        if (entries.size >= limit) entries.clear();
        entries.set(key, { value, until: now + ttlMs });
      }
      return value;
    };
  const write =
    <A extends unknown[], T>(change: (...args: A) => Promise<T>) =>
    async (...args: A): Promise<T> => {
      try {
        return await change(...args);
      } finally {
        // Also after a failed write: it may have changed something before failing.
        writes++;
        entries.clear();
      }
    };

  return {
    writes: () => writes,
    accountByHandle: lookup("account-handle", (handle: string) => store.accountByHandle(handle)),
    accountById: lookup("account-id", (id: string) => store.accountById(id)),
    roleOf: lookup("role", (orgId: string, userId: string) => store.roleOf(orgId, userId)),
    tokenByHash: lookup("token", (hash: string) => store.tokenByHash(hash)),
    environment: lookup("environment", (owner: string, name: string) => store.environment(owner, name)),

    createUser: write(store.createUser.bind(store)),
    createOrg: write(store.createOrg.bind(store)),
    setMember: write(store.setMember.bind(store)),
    removeMember: write(store.removeMember.bind(store)),
    insertToken: write(store.insertToken.bind(store)),
    revokeToken: write(store.revokeToken.bind(store)),
    recordPush: write(store.recordPush.bind(store)),
    setVisibility: write(store.setVisibility.bind(store)),
    deleteEnvironment: write(store.deleteEnvironment.bind(store)),

    listAccounts: (kind) => store.listAccounts(kind),
    membersOf: (orgId) => store.membersOf(orgId),
    orgsOf: (userId) => store.orgsOf(userId),
    tokensOf: (accountId, kind) => store.tokensOf(accountId, kind),
    listEnvironments: () => store.listEnvironments(),
    auditEvents: (owner) => store.auditEvents(owner),
    close: () => store.close(),
  };
}
