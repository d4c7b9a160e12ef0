import type { FastifyInstance } from "fastify";
import { tooLarge } from "../hub-limits.js";
import { registerAccountRoutes } from "./account-routes.js";
import type { ApiDeps } from "./api-deps.js";
import { registerAuditRoutes } from "./audit-routes.js";
import { registerEnvironmentDeleteRoute } from "./environment-delete-route.js";
import { registerEnvironmentDiffRoute } from "./environment-diff-route.js";
import { registerEnvironmentRoutes } from "./environment-routes.js";
import { errorReply } from "./http-errors.js";
import { registerOrgRoutes } from "./org-routes.js";

/**
 * Registers every `/api/v1` route of docs/hub.md in its own encapsulated scope, with the API's error
 * handler (one-line `{ error }` JSON) and a JSON 404 for unknown API paths.
 *
 * @example
 * await registerApiRoutes(app, deps);
 */
export async function registerApiRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  await app.register(
    async (api) => {
      api.setErrorHandler((error, request, reply) => {
        const { status, body } = errorReply(
          (error as { code?: unknown } | null)?.code === "FST_ERR_CTP_BODY_TOO_LARGE"
            ? tooLarge("the request body", undefined, deps.limits.apiBodyBytes, "--max-api-body")
            : error,
        );
        const fields = {
          method: request.method,
          route: request.routeOptions.url ?? "",
          status,
          error: body.error,
        };
        if (status >= 500) deps.log.error("hub.api.failed", { ...fields, cause: errorText(error) });
        else deps.log.info("hub.api.refused", fields);
        return reply.code(status).send(body);
      });
      api.setNotFoundHandler((request, reply) =>
        reply.code(404).send({ error: `no API route ${request.method} ${request.url.split("?")[0] ?? ""}` }),
      );
      registerAccountRoutes(api, deps);
      registerOrgRoutes(api, deps);
      registerEnvironmentRoutes(api, deps);
      registerEnvironmentDiffRoute(api, deps);
      registerEnvironmentDeleteRoute(api, deps);
      registerAuditRoutes(api, deps);
    },
    { prefix: "/api/v1" },
  );
}

/** An unexpected error for the log: its message and the first line of its cause, never a request. */
function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message.split("\n")[0] ?? ""}` : "";
  return `${error.message}${cause}`;
}
