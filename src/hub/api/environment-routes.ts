import type { FastifyInstance } from "fastify";
import { ImagelessError } from "../../errors/imageless-error.js";
import type { GenerationsMetadata } from "../../floxhub/metadata.js";
import { parseOwner } from "../../names/environment-names.js";
import type { Access } from "../access.js";
import { environmentAccessFor, mayAdminister } from "../accounts/permissions.js";
import type { Role } from "../accounts/role.js";
import type { EnvironmentRecord } from "../db/hub-store.js";
import { environmentStateAt, readGeneration } from "../environments/environment-reader.js";
import {
  generationRows,
  generationView,
  historyRow,
  historyRows,
  rollbackTarget,
} from "../environments/environment-view.js";
import { floxmetaRepo } from "../environments/floxmeta-reader.js";
import { switchGeneration } from "../environments/switch-generation.js";
import type { ApiDeps } from "./api-deps.js";
import { refusal } from "./caller.js";
import { type EnvParams, type OpenEnvironment, openEnvironmentWithBranch } from "./open-environment.js";
import { bodyObject, parseGeneration, parseVisibility } from "./request-input.js";

/** `/environments/…`: list, show, generations, history, switch, rollback, visibility (docs/hub.md). */
export function registerEnvironmentRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { store, access } = deps;

  const open = (authorization: string | undefined, params: EnvParams["Params"], need: "read" | "write") =>
    openEnvironmentWithBranch(deps, authorization, params, need);

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
        const tip = (await deps.branches(env.owner)).get(env.name);
        const state =
          tip === undefined
            ? undefined
            : await environmentStateAt(floxmetaRepo(deps.dataDir, env.owner), tip, {
                ref: `${env.owner}/${env.name}`,
                cache: deps.cache,
                objects: deps.objects,
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
        objects: deps.objects,
      });
      return {
        ...summary(env.record, env.state.meta),
        generation,
        ...generationView(content),
        callerMay: callerMay(env),
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

/** What the caller may do with the environment, so a UI offers only what the hub would allow (pure). */
function callerMay(env: Pick<OpenEnvironment, "caller" | "owner" | "role" | "record">) {
  const principal = env.caller;
  const access = environmentAccessFor({
    principal,
    owner: env.owner,
    visibility: env.record.visibility,
    role: env.role,
  });
  return {
    write: access === "write",
    administer: mayAdminister({ principal, owner: env.owner, role: env.role }),
  };
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
