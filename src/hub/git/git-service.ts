/**
 * The hub's git endpoint, `/git/<owner>/floxmeta/…`: authenticates the caller, decides their view
 * (git-access.ts), and hands the request to the real `git http-backend`. Pushes are validated by the
 * pre-receive hook installed in each repository; once receive-pack has finished, and before the
 * client's push returns, every branch that moved is recorded in the environment index.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { isErrorKind } from "../../errors/imageless-error.js";
import type { Logger } from "../../log/logger.js";
import type { HubServices, Principal } from "../access.js";
import { DEFAULT_HUB_LIMITS, type HubLimits, tooLarge } from "../hub-limits.js";
import { type BranchLister, cachedBranchLister } from "./branch-tips-cache.js";
import { classifyCredentials, decideGitRequest, parseGitTarget } from "./git-access.js";
import { captureAdvertisement, handleGitHttp } from "./git-http-backend.js";
import { ensureRepo, gitRoot, listBranches, repoExists } from "./git-repos.js";
import { formatPushAccess, MAX_BLOB_VARIABLE, PUSH_ACCESS_VARIABLE } from "./push-validation.js";

/** The challenge git needs to retry with credentials (Flox's helper answers with `oauth:<token>`). */
const CHALLENGE = 'Basic realm="imageless hub", charset="UTF-8"';

/**
 * Registers `GET|POST /git/*` on `app`, in its own scope: git's request bodies stream to
 * http-backend unparsed.
 *
 * @example
 * const app = fastify();
 * registerGitRoutes(app, services, log);
 * await app.listen({ port: 8080 });
 * // git clone --branch web http://127.0.0.1:8080/git/acme/floxmeta
 */
export function registerGitRoutes(
  app: FastifyInstance,
  services: HubServices,
  log: Logger,
  limits: HubLimits = DEFAULT_HUB_LIMITS,
): void {
  const advertisements = advertisementCache();
  const branchesOf = cachedBranchLister(services.dataDir, Date.now);
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    // Leave the body unread: http-backend reads it (possibly gzip-encoded) from the raw request.
    scope.addContentTypeParser("*", (_request, _payload, done) => done(null));
    scope.route({
      method: ["GET", "POST"],
      url: "/git/*",
      handler: (request, reply) =>
        serveGitRequest(request, reply, { services, log, limits, advertisements, branchesOf }),
    });
  });
}

async function serveGitRequest(
  request: FastifyRequest,
  reply: FastifyReply,
  ctx: {
    services: HubServices;
    log: Logger;
    limits: HubLimits;
    advertisements: AdvertisementCache;
    branchesOf: BranchLister;
  },
): Promise<void> {
  const { services, log, limits } = ctx;
  const target = parseGitTarget(request.method, request.raw.url ?? "");
  if (target === undefined) {
    return refuse(request, reply, 404, "not a floxmeta smart-HTTP path: /git/<owner>/floxmeta");
  }
  const announced = Number(request.headers["content-length"] ?? Number.NaN);
  if (target.service === "receive-pack" && target.phase === "rpc" && announced > limits.pushBytes) {
    const line = tooLarge("this push", announced, limits.pushBytes, "--max-push").message;
    return refuse(request, reply, 413, line);
  }
  const authorization = request.headers.authorization;
  const credentials = classifyCredentials(authorization);
  let principal: Principal | undefined;
  if (credentials === "token") {
    try {
      principal = await services.access.identify(authorization);
    } catch (error) {
      if (!isErrorKind(error, "unauthorized")) throw error;
      return refuse(request, reply, 401, error.message);
    }
  }
  const branches = await ctx.branchesOf(target.owner);
  const decision = decideGitRequest(target.owner, {
    service: target.service,
    credentials,
    ...(principal === undefined ? {} : { principal: principal.name }),
    repoExists: branches.size > 0 || (await repoExists(services.dataDir, target.owner)),
    branches: await Promise.all(
      [...branches.keys()].map(async (name) => ({
        name,
        access: await services.access.environmentAccess(principal, target.owner, name),
      })),
    ),
    ownerAccess:
      target.service === "receive-pack" && principal !== undefined
        ? await services.access.ownerAccess(principal, target.owner)
        : "none",
  });
  log.info("hub.git.request", {
    owner: target.owner,
    service: target.service,
    phase: target.phase,
    caller: principal?.name ?? "anonymous",
    decision: decision.kind === "serve" ? "serve" : decision.status,
  });
  if (decision.kind === "refuse") return refuse(request, reply, decision.status, decision.message);

  if (target.service === "upload-pack" && target.phase === "advertise") {
    // Every container start asks for this (its live-generation check): answered from memory when
    // this view of these exact branch tips was advertised before.
    const key = advertisementKey(target.owner, decision.config, branches);
    const served =
      ctx.advertisements.get(key) ??
      (await ctx.advertisements.capture(key, async () => {
        const value = await captureAdvertisement({
          projectRoot: gitRoot(services.dataDir),
          pathInfo: target.pathInfo,
          config: decision.config,
        });
        // Kept only if no branch moved while git ran, so an entry always matches its key.
        const now = await ctx.branchesOf(target.owner);
        return { value, keep: advertisementKey(target.owner, decision.config, now) === key };
      }));
    void reply.code(served.status).headers(Object.fromEntries(served.headers)).send(served.body);
    return;
  }

  if (target.service === "receive-pack") await ensureRepo(services.dataDir, target.owner);
  const recordMoves = async () => {
    const after = await listBranches(services.dataDir, target.owner);
    for (const [name, tip] of after) {
      if (branches.get(name) === tip) continue;
      await services.environments.recordPush(target.owner, name);
      log.info("hub.git.pushed", { owner: target.owner, env: name, tip });
    }
  };
  reply.hijack();
  await handleGitHttp(request.raw, reply.raw, {
    projectRoot: gitRoot(services.dataDir),
    pathInfo: target.pathInfo,
    allowPush: target.service === "receive-pack",
    // receive-pack stops reading a pack larger than this (a chunked push announces no length).
    config:
      target.service === "receive-pack"
        ? [...decision.config, ["receive.maxInputSize", String(limits.pushBytes)]]
        : decision.config,
    // Protocol v0 checks every requested object against the visible refs (see git-access.ts).
    protocolV0: true,
    log,
    ...(principal === undefined ? {} : { remoteUser: principal.name }),
    ...(decision.push === undefined
      ? {}
      : {
          env: {
            [PUSH_ACCESS_VARIABLE]: formatPushAccess(decision.push),
            [MAX_BLOB_VARIABLE]: String(limits.blobBytes),
          },
        }),
    ...(target.service === "receive-pack" && target.phase === "rpc" ? { beforeEnd: recordMoves } : {}),
  });
}

/**
 * What a ref advertisement depends on, whole: the owner, the caller's view (hideRefs) and every
 * branch tip (pure). A push or a switch moves a tip, so it changes the key: nothing to invalidate.
 * HEAD is hidden in every view, and protocol v0 is forced, so nothing else reaches the answer.
 */
export function advertisementKey(
  owner: string,
  config: readonly (readonly [string, string])[],
  branches: ReadonlyMap<string, string>,
): string {
  return JSON.stringify([owner, config, [...branches].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]);
}

type Advertisement = Awaited<ReturnType<typeof captureAdvertisement>>;

interface AdvertisementCache {
  get(key: string): Advertisement | undefined;
  /**
   * Runs `work` for `key`, or joins the run already under way for it: the starts of a whole cluster
   * asking at once after a push spawn one git process, not one each. Its value is kept when `keep`.
   */
  capture(key: string, work: () => Promise<{ value: Advertisement; keep: boolean }>): Promise<Advertisement>;
}

/** Advertisements by key, the least recently used dropped past a bound (each is a few hundred bytes). */
function advertisementCache(limit = 4096): AdvertisementCache {
  const entries = new Map<string, Advertisement>();
  const running = new Map<string, Promise<Advertisement>>();
  return {
    get(key) {
      const value = entries.get(key);
      if (value !== undefined) {
        entries.delete(key);
        entries.set(key, value);
      }
      return value;
    },
    capture(key, work) {
      const joined = running.get(key);
      if (joined !== undefined) return joined;
      const run = work()
        .then(({ value, keep }) => {
          if (keep) {
            entries.set(key, value);
            if (entries.size > limit) entries.delete(entries.keys().next().value ?? "");
          }
          return value;
        })
        .finally(() => running.delete(key));
      running.set(key, run);
      return run;
    },
  };
}

function refuse(request: FastifyRequest, reply: FastifyReply, status: number, message: string): void {
  // git may have started sending a pack: a large one is not read, the connection is closed instead.
  if (status === 413) void reply.header("connection", "close");
  request.raw.resume();
  if (status === 401) void reply.header("WWW-Authenticate", CHALLENGE);
  void reply.code(status).type("text/plain; charset=utf-8").send(`${message}\n`);
}
