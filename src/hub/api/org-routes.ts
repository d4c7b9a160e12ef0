import type { FastifyInstance } from "fastify";
import { ImagelessError } from "../../errors/imageless-error.js";
import { parseOwner } from "../../names/environment-names.js";
import { ForbiddenError } from "../accounts/forbidden-error.js";
import { lastOwnerProblem, mayAdminister } from "../accounts/permissions.js";
import { parseRole } from "../accounts/role.js";
import type { AccountRecord } from "../db/hub-store.js";
import type { Caller } from "../tokens/token-service.js";
import { tokenRow } from "./account-routes.js";
import type { ApiDeps } from "./api-deps.js";
import { requireCaller, requireUser } from "./caller.js";
import { bodyObject, optionalDescription } from "./request-input.js";

type OrgParams = { Params: { org: string } };
type MemberParams = { Params: { org: string; handle: string } };
type TokenParams = { Params: { org: string; id: string } };

/** `/orgs/…`: organisations, members with roles, machine tokens (docs/hub.md). */
export function registerOrgRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { store, access, tokens } = deps;

  /** The organisation, after checking the caller may manage it (admins, its owners). */
  const managedOrg = async (caller: Caller | undefined, name: string, action: string) => {
    const user = requireUser(caller, action);
    const org = await findOrg(deps, name);
    if (!mayAdminister({ principal: user, owner: org.handle, role: await access.roleIn(user, org.handle) })) {
      throw new ForbiddenError(
        `"${user.name}" cannot ${action} of organisation "${org.handle}": only its owners can`,
      );
    }
    return { user, org };
  };

  app.post("/orgs", async (request, reply) => {
    const user = requireUser(await access.identify(request.headers.authorization), "create organisations");
    const name = parseOwner(bodyObject(request.body)["name"], "organisation name");
    const org = await store.createOrg(name, user.accountId, deps.now());
    deps.log.info("hub.org.created", { org: org.handle, owner: user.name });
    return reply.code(201).send({ name: org.handle });
  });

  app.get<OrgParams>("/orgs/:org", async (request) => {
    const caller = requireCaller(await access.identify(request.headers.authorization));
    const org = await findOrg(deps, request.params.org);
    const role = await access.roleIn(caller, org.handle);
    const member = caller.name === org.handle || caller.admin || role !== undefined;
    if (!member) throw new ForbiddenError(`"${caller.name}" is not a member of organisation "${org.handle}"`);
    return {
      name: org.handle,
      members: await store.membersOf(org.id),
      // So a UI offers member and token management only to those the hub lets do it.
      callerMayManage: mayAdminister({ principal: caller, owner: org.handle, role }),
    };
  });

  app.put<MemberParams>("/orgs/:org/members/:handle", async (request) => {
    const { org } = await managedOrg(
      await access.identify(request.headers.authorization),
      request.params.org,
      "manage members",
    );
    const role = parseRole(bodyObject(request.body)["role"]);
    const member = await findUser(deps, request.params.handle);
    const problem = lastOwnerProblem(org.handle, await store.membersOf(org.id), {
      handle: member.handle,
      role,
    });
    if (problem !== undefined) throw new ImagelessError("failed-precondition", problem);
    await store.setMember(org.id, member.id, role);
    deps.log.info("hub.org.member_set", { org: org.handle, member: member.handle, role });
    return { handle: member.handle, role };
  });

  app.delete<MemberParams>("/orgs/:org/members/:handle", async (request) => {
    const { org } = await managedOrg(
      await access.identify(request.headers.authorization),
      request.params.org,
      "manage members",
    );
    const member = await findUser(deps, request.params.handle);
    const problem = lastOwnerProblem(org.handle, await store.membersOf(org.id), {
      handle: member.handle,
      role: undefined,
    });
    if (problem !== undefined) throw new ImagelessError("failed-precondition", problem);
    if (!(await store.removeMember(org.id, member.id))) {
      throw new ImagelessError(
        "not-found",
        `"${member.handle}" is not a member of organisation "${org.handle}"`,
      );
    }
    deps.log.info("hub.org.member_removed", { org: org.handle, member: member.handle });
    return { handle: member.handle, removed: true };
  });

  app.post<OrgParams>("/orgs/:org/tokens", async (request, reply) => {
    const { user, org } = await managedOrg(
      await access.identify(request.headers.authorization),
      request.params.org,
      "create machine tokens",
    );
    const issued = await tokens.issueMachineToken(
      org,
      optionalDescription(bodyObject(request.body)["description"]),
    );
    deps.log.info("hub.token.created", {
      org: org.handle,
      by: user.name,
      tokenId: issued.id,
      kind: "machine",
    });
    return reply.code(201).send({ id: issued.id, token: issued.token.reveal() });
  });

  app.get<OrgParams>("/orgs/:org/tokens", async (request) => {
    const { org } = await managedOrg(
      await access.identify(request.headers.authorization),
      request.params.org,
      "list machine tokens",
    );
    return (await store.tokensOf(org.id, "machine")).map(tokenRow);
  });

  app.delete<TokenParams>("/orgs/:org/tokens/:id", async (request) => {
    const { user, org } = await managedOrg(
      await access.identify(request.headers.authorization),
      request.params.org,
      "revoke machine tokens",
    );
    if (!(await store.revokeToken(request.params.id, org.id, deps.now()))) {
      throw new ImagelessError(
        "not-found",
        `token ${request.params.id} is not an unrevoked machine token of "${org.handle}"`,
      );
    }
    deps.log.info("hub.token.revoked", { org: org.handle, by: user.name, tokenId: request.params.id });
    return { id: request.params.id, revoked: true };
  });
}

async function findOrg(deps: ApiDeps, name: string): Promise<AccountRecord> {
  const org = await deps.store.accountByHandle(parseOwner(name, "organisation name"));
  if (org?.kind !== "org") throw new ImagelessError("not-found", `organisation "${name}" does not exist`);
  return org;
}

async function findUser(deps: ApiDeps, handle: string): Promise<AccountRecord> {
  const user = await deps.store.accountByHandle(parseOwner(handle, "handle"));
  if (user?.kind !== "user") throw new ImagelessError("not-found", `user "${handle}" does not exist`);
  return user;
}
