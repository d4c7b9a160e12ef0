import type { FastifyInstance } from "fastify";
import { ImagelessError } from "../../errors/imageless-error.js";
import { parseOwner } from "../../names/environment-names.js";
import { mayAdminister } from "../accounts/permissions.js";
import type { ApiDeps } from "./api-deps.js";
import { refusal, requireCaller } from "./caller.js";

/**
 * `GET /audit?owner=X` (the owner: the user, an org owner, an admin): changes recorded outside the
 * floxmeta history because they remove it (deleted environments), oldest first (docs/hub.md).
 */
export function registerAuditRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get<{ Querystring: Record<string, string | undefined> }>("/audit", async (request) => {
    const caller = requireCaller(await deps.access.identify(request.headers.authorization));
    const asked = request.query["owner"];
    if (asked === undefined)
      throw new ImagelessError(
        "invalid-input",
        "query parameter owner is missing: use /audit?owner=<user or organisation>",
      );
    const owner = parseOwner(asked, "owner");
    const role = await deps.access.roleIn(caller, owner);
    if (!mayAdminister({ principal: caller, owner, role })) {
      throw refusal(
        caller,
        (who) => `"${who}" cannot read the audit events of "${owner}": only "${owner}" or its owners can`,
      );
    }
    return (await deps.store.auditEvents(owner)).map((e) => ({
      at: new Date(e.at).toISOString(),
      actor: e.actor,
      action: e.action,
      target: e.target,
      detail: e.detail ?? null,
    }));
  });
}
