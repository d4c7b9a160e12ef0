import { ImagelessError } from "../../errors/imageless-error.js";
import { parseEnvironmentName, parseOwner } from "../../names/environment-names.js";
import { environmentAccessFor } from "../accounts/permissions.js";
import type { Role } from "../accounts/role.js";
import type { EnvironmentRecord } from "../db/hub-store.js";
import { type EnvironmentState, environmentStateAt } from "../environments/environment-reader.js";
import { floxmetaRepo } from "../environments/floxmeta-reader.js";
import type { Caller } from "../tokens/token-service.js";
import type { ApiDeps } from "./api-deps.js";
import { refusal } from "./caller.js";

/** `:owner/:name` of an environment route. */
export type EnvParams = { Params: { owner: string; name: string } };

/** An environment the caller may use, as a route needs it. */
export interface OpenEnvironment {
  readonly caller: Caller | undefined;
  readonly role: Role | undefined;
  readonly record: EnvironmentRecord;
  readonly owner: string;
  readonly name: string;
  /** `owner/name`, for messages. */
  readonly ref: string;
  /** The owner's bare floxmeta repository. */
  readonly repo: string;
  /** Undefined only with `allowMissingBranch` (an index row whose branch is gone). */
  readonly state: EnvironmentState | undefined;
}

/**
 * The environment named by a route, after checking the caller may `need` it, with its git state.
 *
 * @throws {ImagelessError} 400 for a bad name; 401/404 when the caller may not read it (the same
 *   answer as for an absent one); 403 when reading is allowed but `need` is write; 404 when the
 *   branch is missing (unless `allowMissingBranch`).
 */
export async function openEnvironment(
  deps: ApiDeps,
  authorization: string | undefined,
  params: EnvParams["Params"],
  opts: { need: "read" | "write"; allowMissingBranch?: boolean },
): Promise<OpenEnvironment> {
  const owner = parseOwner(params.owner, "owner");
  const name = parseEnvironmentName(params.name, "environment name");
  const ref = `${owner}/${name}`;
  const caller = await deps.access.identify(authorization);
  const [record, role] = await Promise.all([
    deps.store.environment(owner, name),
    deps.access.roleIn(caller, owner),
  ]);
  const may =
    record === undefined
      ? "none"
      : environmentAccessFor({ principal: caller, owner, visibility: record.visibility, role });
  if (record === undefined || may === "none") throw unseen(caller, ref);
  if (opts.need === "write" && may !== "write") {
    throw refusal(
      caller,
      (who) => `"${who}" cannot change "${ref}": it needs the writer or owner role in "${owner}"`,
    );
  }
  const repo = floxmetaRepo(deps.dataDir, owner);
  const tip = (await deps.branches(owner)).get(name);
  const state =
    tip === undefined
      ? undefined
      : await environmentStateAt(repo, tip, { ref, cache: deps.cache, objects: deps.objects });
  if (state === undefined && opts.allowMissingBranch !== true)
    throw new ImagelessError("not-found", `environment "${ref}" has no floxmeta branch on this hub`);
  return { caller, role, record, repo, ref, state, owner, name };
}

/** {@link openEnvironment} for routes that need the branch: its state is always there. */
export async function openEnvironmentWithBranch(
  deps: ApiDeps,
  authorization: string | undefined,
  params: EnvParams["Params"],
  need: "read" | "write",
): Promise<OpenEnvironment & { readonly state: EnvironmentState }> {
  const env = await openEnvironment(deps, authorization, params, { need });
  if (env.state === undefined)
    throw new ImagelessError("internal", `environment "${env.ref}" lost its branch`);
  return { ...env, state: env.state };
}

/**
 * The error for an environment the caller may not see: the same whether it is private or absent, so
 * names of private environments do not leak. Anonymous callers are told a token may help (401).
 */
function unseen(caller: Caller | undefined, ref: string): ImagelessError {
  if (caller === undefined) {
    return new ImagelessError(
      "unauthorized",
      `environment "${ref}" is not public or does not exist: send a token that may read it`,
    );
  }
  return new ImagelessError(
    "not-found",
    `environment "${ref}" does not exist or "${caller.name}" may not read it`,
  );
}
