import type { FastifyInstance } from "fastify";
import { ImagelessError } from "../../errors/imageless-error.js";
import { readGeneration } from "../environments/environment-reader.js";
import { generationView } from "../environments/environment-view.js";
import { diffGenerations } from "../environments/generation-diff.js";
import type { ApiDeps } from "./api-deps.js";
import { type EnvParams, openEnvironmentWithBranch } from "./open-environment.js";
import { parseGeneration } from "./request-input.js";

type DiffRequest = EnvParams & { Querystring: Record<string, string | undefined> };

/**
 * `GET /environments/:owner/:name/diff?from=N&to=M` (readers): what changed from generation N to M
 * (M defaults to the live one): packages added, removed, upgraded; variables; scripts (docs/hub.md).
 */
export function registerEnvironmentDiffRoute(app: FastifyInstance, deps: ApiDeps): void {
  app.get<DiffRequest>("/environments/:owner/:name/diff", async (request) => {
    const env = await openEnvironmentWithBranch(deps, request.headers.authorization, request.params, "read");
    if (request.query["from"] === undefined)
      throw new ImagelessError("invalid-input", "query parameter from is missing: use ?from=N&to=M");
    const from = parseGeneration(request.query["from"], "from");
    const asked = request.query["to"];
    const to = asked === undefined ? env.state.meta.liveGeneration : parseGeneration(asked, "to");
    if (to === undefined)
      throw new ImagelessError("not-found", `environment "${env.ref}" has no live generation`);
    const read = (generation: number) =>
      readGeneration(env.repo, env.state, {
        generation,
        ref: env.ref,
        cache: deps.cache,
        objects: deps.objects,
      });
    const [before, after] = await Promise.all([read(from), read(to)]);
    return { from, to, ...diffGenerations(generationView(before), generationView(after)) };
  });
}
