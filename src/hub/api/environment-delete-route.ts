import type { FastifyInstance } from "fastify";
import { ImagelessError } from "../../errors/imageless-error.js";
import { mayAdminister } from "../accounts/permissions.js";
import { deleteBranch } from "../environments/delete-branch.js";
import type { ApiDeps } from "./api-deps.js";
import { refusal } from "./caller.js";
import { type EnvParams, openEnvironment } from "./open-environment.js";

/**
 * `DELETE /environments/:owner/:name` (the owner: the user, an org owner, an admin): removes the
 * floxmeta branch and the index row and records an `environment.deleted` audit event (docs/hub.md).
 * Git goes first: it is the source of truth, and an index row left behind by a failure in between
 * is removed by deleting again (the branch may then be missing already).
 */
export function registerEnvironmentDeleteRoute(app: FastifyInstance, deps: ApiDeps): void {
  app.delete<EnvParams>("/environments/:owner/:name", async (request) => {
    const env = await openEnvironment(deps, request.headers.authorization, request.params, {
      need: "read",
      allowMissingBranch: true,
    });
    if (!mayAdminister({ principal: env.caller, owner: env.owner, role: env.role })) {
      throw refusal(
        env.caller,
        (who) => `"${who}" cannot delete "${env.ref}": only "${env.owner}" or its owners can`,
      );
    }
    const meta = env.state?.meta;
    if (env.state !== undefined) await deleteBranch(env.repo, env.name, env.state.commit);
    const actor = env.caller?.name ?? "";
    const deleted = await deps.store.deleteEnvironment(env.owner, env.name, {
      at: deps.now(),
      actor,
      action: "environment.deleted",
      owner: env.owner,
      target: env.ref,
      detail:
        env.state === undefined
          ? "index row only (its branch was already gone)"
          : `branch tip ${env.state.commit}, ${count(meta?.generations.length ?? 0, "generation")}, live ${meta?.liveGeneration ?? "none"}`,
    });
    if (!deleted) throw new ImagelessError("not-found", `environment "${env.ref}" was deleted meanwhile`);
    deps.log.info("hub.environment.deleted", { env: env.ref, by: actor, commit: env.state?.commit });
    return { owner: env.owner, name: env.name, deleted: true };
  });
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
