import type { Access, EnvironmentIndex, HubAccess, Principal } from "./access.js";
import { environmentAccessFor, ownerAccessFor } from "./accounts/permissions.js";
import type { Role } from "./accounts/role.js";
import type { HubStore } from "./db/hub-store.js";
import { tokenFromAuthorization } from "./tokens/authorization-header.js";
import type { Caller, TokenService } from "./tokens/token-service.js";

/** {@link HubAccess} whose `identify` also says which account and token the caller used. */
export interface HubAccessImpl extends HubAccess {
  identify(authorization: string | undefined): Promise<Caller | undefined>;
  /** The caller's role in organisation `owner` (undefined for non-members, machine tokens, users). */
  roleIn(principal: Principal | undefined, owner: string): Promise<Role | undefined>;
}

/**
 * The hub's access decisions over its store: the token service names the caller, the pure rules in
 * `accounts/permissions.ts` decide.
 *
 * @example
 * const access = createHubAccess({ store, tokens });
 * await access.environmentAccess(await access.identify(req.headers.authorization), "acme", "web");
 */
export function createHubAccess(deps: { store: HubStore; tokens: TokenService }): HubAccessImpl {
  const { store, tokens } = deps;
  const roleIn = async (principal: Principal | undefined, owner: string): Promise<Role | undefined> => {
    if (principal?.kind !== "user" || principal.name === owner) return undefined;
    const [org, user] = await Promise.all([
      store.accountByHandle(owner),
      store.accountByHandle(principal.name),
    ]);
    if (org?.kind !== "org" || user === undefined) return undefined;
    return store.roleOf(org.id, user.id);
  };
  return {
    async identify(authorization) {
      const token = tokenFromAuthorization(authorization);
      return token === undefined ? undefined : tokens.authenticate(token);
    },
    roleIn,
    async environmentAccess(principal, owner, name): Promise<Access> {
      const [env, role] = await Promise.all([store.environment(owner, name), roleIn(principal, owner)]);
      return environmentAccessFor({ principal, owner, visibility: env?.visibility, role });
    },
    async ownerAccess(principal, owner): Promise<Access> {
      return ownerAccessFor({ principal, owner, role: await roleIn(principal, owner) });
    },
  };
}

/**
 * The environment index over the store (what the git service records pushes in).
 *
 * @example
 * await createEnvironmentIndex(store, Date.now).recordPush("acme", "web");
 */
export function createEnvironmentIndex(store: HubStore, now: () => number): EnvironmentIndex {
  return {
    recordPush: (owner, name) => store.recordPush(owner, name, now()),
    list: async () =>
      (await store.listEnvironments()).map(({ owner, name, visibility }) => ({ owner, name, visibility })),
  };
}
