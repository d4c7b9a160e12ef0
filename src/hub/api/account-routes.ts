import type { FastifyInstance } from "fastify";
import { ImagelessError } from "../../errors/imageless-error.js";
import { parseOwner } from "../../names/environment-names.js";
import type { TokenRecord } from "../db/hub-store.js";
import type { ApiDeps } from "./api-deps.js";
import { requireAdmin, requireCaller, requireUser } from "./caller.js";
import { bodyObject, optionalBoolean, optionalDescription } from "./request-input.js";

/** `/accounts/me`, `/users` and the caller's own `/tokens` (docs/hub.md). */
export function registerAccountRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { store, access, tokens } = deps;
  const identify = (authorization: string | undefined) => access.identify(authorization);

  app.get("/accounts/me", async (request) => {
    const caller = requireCaller(await identify(request.headers.authorization));
    const orgs =
      caller.kind === "user"
        ? await store.orgsOf(caller.accountId)
        : // A machine token acts for its organisation with write access (docs/hub.md).
          [{ name: caller.name, role: "writer" }];
    return { handle: caller.name, kind: caller.kind, admin: caller.admin, orgs };
  });

  app.post("/users", async (request, reply) => {
    requireAdmin(await identify(request.headers.authorization), "create users");
    const body = bodyObject(request.body);
    const handle = parseOwner(body["handle"], "handle");
    const user = await store.createUser(handle, optionalBoolean(body["admin"], "admin"), deps.now());
    deps.log.info("hub.user.created", { handle: user.handle, admin: user.admin });
    return reply.code(201).send({ handle: user.handle });
  });

  app.post("/tokens", async (request, reply) => {
    const caller = requireUser(await identify(request.headers.authorization), "create user tokens");
    const user = await store.accountById(caller.accountId);
    if (user === undefined) throw new ImagelessError("unauthorized", "the token's account no longer exists");
    const issued = await tokens.issueUserToken(
      user,
      optionalDescription(bodyObject(request.body)["description"]),
    );
    deps.log.info("hub.token.created", { handle: user.handle, tokenId: issued.id, kind: "user" });
    return reply.code(201).send({
      id: issued.id,
      token: issued.token.reveal(),
      expiresAt: iso(issued.expiresAt),
    });
  });

  app.get("/tokens", async (request) => {
    const caller = requireUser(await identify(request.headers.authorization), "list user tokens");
    return (await store.tokensOf(caller.accountId, "user")).map(tokenRow);
  });

  app.delete<{ Params: { id: string } }>("/tokens/:id", async (request) => {
    const caller = requireUser(await identify(request.headers.authorization), "revoke user tokens");
    if (!(await store.revokeToken(request.params.id, caller.accountId, deps.now()))) {
      throw new ImagelessError(
        "not-found",
        `token ${request.params.id} is not an unrevoked token of "${caller.name}"`,
      );
    }
    deps.log.info("hub.token.revoked", { handle: caller.name, tokenId: request.params.id });
    return { id: request.params.id, revoked: true };
  });
}

/** A token as listed: never its text or hash. */
export function tokenRow(t: TokenRecord) {
  return {
    id: t.id,
    description: t.description ?? null,
    createdAt: iso(t.createdAt),
    expiresAt: t.expiresAt === undefined ? null : iso(t.expiresAt),
    revoked: t.revokedAt !== undefined,
  };
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}
