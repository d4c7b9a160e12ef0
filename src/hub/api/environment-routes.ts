import type { FastifyInstance } from "fastify";
import { ImagelessError } from "../../errors/imageless-error.js";
import type { GenerationsMetadata } from "../../floxhub/metadata.js";
import { parseEnvironmentName, parseOwner } from "../../names/environment-names.js";
import type { Access } from "../access.js";
import { environmentAccessFor, mayAdminister } from "../accounts/permissions.js";
import type { Role } from "../accounts/role.js";
import type { EnvironmentRecord } from "../db/hub-store.js";
import { readEnvironmentState, readGeneration } from "../environments/environment-reader.js";
import {
  generationRows,
  historyRow,
  historyRows,
  packageRows,
  rollbackTarget,
} from "../environments/environment-view.js";
import { floxmetaRepo } from "../environments/floxmeta-reader.js";
import { switchGeneration } from "../environments/switch-generation.js";
import type { Caller } from "../tokens/token-service.js";
import type { ApiDeps } from "./api-deps.js";
import { refusal } from "./caller.js";
import { bodyObject, parseGeneration, parseVisibility } from "./request-input.js";

type EnvParams = { Params: { owner: string; name: string } };

/** `/environments/…`: list, show, generations, history, switch, rollback, visibility (docs/hub.md). */
export function registerEnvironmentRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { store, access } = deps;

  /** The environment, after checking the caller may `need` it; its git state when it has a branch. */
  const open = async (
    authorization: string | undefined,
    params: EnvParams["Params"],
    need: "read" | "write",
  ) => {
    const owner = parseOwner(params.owner, "owner");
    const name = parseEnvironmentName(params.name, "environment name");
    const ref = `${owner}/${name}`;
    const caller = await access.identify(authorization);
    const [record, role] = await Promise.all([store.environment(owner, name), access.roleIn(caller, owner)]);
    const may =
      record === undefined
        ? "none"
        : environmentAccessFor({ principal: caller, owner, visibility: record.visibility, role });
    if (record === undefined || may === "none") throw unseen(caller, ref);
    if (need === "write" && may !== "write") {
      throw refusal(
        caller,
        (who) => `"${who}" cannot change "${ref}": it needs the writer or owner role in "${owner}"`,
      );
    }
    const repo = floxmetaRepo(deps.dataDir, owner);
    const state = await readEnvironmentState(repo, name, { ref, cache: deps.cache });
    if (state === undefined)
      throw new ImagelessError("not-found", `environment "${ref}" has no floxmeta branch on this hub`);
    return { caller, role, record, repo, ref, state, owner, name };
  };

  app.get<{ Querystring: Record<string, string | undefined> }>("/environments", async (request) => {
    const owner =
      request.query["owner"] === undefined ? undefined : parseOwner(request.query["owner"], "owner");
    const visibility =
      request.query["visibility"] === undefined
        ? undefined
        : parseVisibility(request.query["visibility"], "visibility");
    const caller = await access.identify(request.headers.authorization);
    const roles = new Map<string, Promise<Role | undefined>>();
    const roleIn = (o: string) => {
      const known = roles.get(o) ?? access.roleIn(caller, o);
      roles.set(o, known);
      return known;
    };
    const visible: EnvironmentRecord[] = [];
    for (const env of await store.listEnvironments()) {
      if (owner !== undefined && env.owner !== owner) continue;
      if (visibility !== undefined && env.visibility !== visibility) continue;
      const may: Access = environmentAccessFor({
        principal: caller,
        owner: env.owner,
        visibility: env.visibility,
        role: await roleIn(env.owner),
      });
      if (may !== "none") visible.push(env);
    }
    return Promise.all(
      visible.map(async (env) => {
        const state = await readEnvironmentState(floxmetaRepo(deps.dataDir, env.owner), env.name, {
          ref: `${env.owner}/${env.name}`,
          cache: deps.cache,
        });
        return { ...summary(env, state?.meta), updatedAt: new Date(env.updatedAt).toISOString() };
      }),
    );
  });

  app.get<EnvParams & { Querystring: Record<string, string | undefined> }>(
    "/environments/:owner/:name",
    async (request) => {
      const env = await open(request.headers.authorization, request.params, "read");
      const asked = request.query["generation"];
      const generation =
        asked === undefined ? env.state.meta.liveGeneration : parseGeneration(asked, "generation");
      if (generation === undefined)
        throw new ImagelessError("not-found", `environment "${env.ref}" has no generations yet`);
      const content = await readGeneration(env.repo, env.state, {
        generation,
        ref: env.ref,
        cache: deps.cache,
      });
      return {
        ...summary(env.record, env.state.meta),
        generation,
        packages: packageRows(content.lock, content.manifest),
        vars: content.manifest.vars,
        hook: content.manifest.hook,
        profile: content.manifest.profile,
      };
    },
  );

  app.get<EnvParams>("/environments/:owner/:name/generations", async (request) => {
    const env = await open(request.headers.authorization, request.params, "read");
    return generationRows(env.state.meta);
  });

  app.get<EnvParams>("/environments/:owner/:name/history", async (request) => {
    const env = await open(request.headers.authorization, request.params, "read");
    return historyRows(env.state.meta);
  });

  const switchTo = async (
    authorization: string | undefined,
    params: EnvParams["Params"],
    target: (meta: GenerationsMetadata, ref: string) => number,
  ) => {
    const env = await open(authorization, params, "write");
    const entry = await switchGeneration({
      repo: env.repo,
      name: env.name,
      ref: env.ref,
      target: (meta) => target(meta, env.ref),
      change: {
        author: env.caller?.name ?? "",
        hostname: deps.hostname,
        timestamp: Math.floor(deps.now() / 1000),
        command: null,
      },
    });
    await store.recordPush(env.owner, env.name, deps.now());
    deps.log.info("hub.environment.switched", {
      env: env.ref,
      by: env.caller?.name,
      from: entry.previousGeneration,
      to: entry.currentGeneration,
    });
    return historyRow(entry);
  };

  app.post<EnvParams>("/environments/:owner/:name/switch", async (request) => {
    const generation = parseGeneration(bodyObject(request.body)["generation"], "generation");
    return switchTo(request.headers.authorization, request.params, () => generation);
  });

  app.post<EnvParams>("/environments/:owner/:name/rollback", async (request) =>
    switchTo(request.headers.authorization, request.params, (meta, ref) =>
      rollbackTarget(meta, `environment "${ref}"`),
    ),
  );

  app.put<EnvParams>("/environments/:owner/:name/visibility", async (request) => {
    const visibility = parseVisibility(bodyObject(request.body)["visibility"], "visibility");
    const env = await open(request.headers.authorization, request.params, "read");
    if (!mayAdminister({ principal: env.caller, owner: env.owner, role: env.role })) {
      throw refusal(
        env.caller,
        (who) =>
          `"${who}" cannot change the visibility of "${env.ref}": only "${env.owner}" or its owners can`,
      );
    }
    await store.setVisibility(env.owner, env.name, visibility, deps.now());
    deps.log.info("hub.environment.visibility", { env: env.ref, by: env.caller?.name, visibility });
    return { owner: env.owner, name: env.name, visibility };
  });
}

/** The list/show fields every environment answer starts with. */
function summary(env: EnvironmentRecord, meta: GenerationsMetadata | undefined) {
  return {
    owner: env.owner,
    name: env.name,
    visibility: env.visibility,
    ...(meta?.liveGeneration === undefined ? {} : { liveGeneration: meta.liveGeneration }),
    totalGenerations: meta?.generations.length ?? 0,
  };
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
