import { mkdir } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import Fastify, { type FastifyInstance } from "fastify";
import { ObjectReaderPool } from "../git/object-reader-pool.js";
import type { Logger } from "../log/logger.js";
import type { HubServices } from "./access.js";
import { createEnvironmentIndex, createHubAccess } from "./access-impl.js";
import type { ApiDeps } from "./api/api-deps.js";
import { registerApiRoutes } from "./api/register-api.js";
import { registerCacheRoutes } from "./binary-cache/cache-service.js";
import { loadOrCreateSigningKey } from "./binary-cache/signing-key.js";
import type { HubStore } from "./db/hub-store.js";
import { memoizeStore } from "./db/memo-store.js";
import { openHubStore } from "./db/open-hub-store.js";
import { CommitCache } from "./environments/commit-cache.js";
import { cachedBranchLister } from "./git/branch-tips-cache.js";
import { registerGitRoutes } from "./git/git-service.js";
import { DEFAULT_HUB_LIMITS, type HubLimits } from "./hub-limits.js";
import { parseListen } from "./listen-address.js";
import { loadOrCreateJwtSecret } from "./tokens/jwt-secret.js";
import { createTokenService } from "./tokens/token-service.js";
import { registerWebRoutes } from "./web/register-web-routes.js";

/** How to run a hub (`imageless hub serve`). */
export interface HubOptions {
  /** `host:port`; port 0 picks a free one (the log line `hub.listening` tells which). */
  readonly listen: string;
  readonly dataDir: string;
  /** A `postgres://` URL; SQLite in the data directory without it. */
  readonly database?: string;
  /** The URL clients use (behind a proxy); defaults to the listening address. */
  readonly publicUrl?: string;
  /** What one caller may send (docs/hub.md "Limits"); the defaults when absent. */
  readonly limits?: HubLimits;
  readonly log: Logger;
}

/** A running hub. */
export interface RunningHub {
  /** The address it listens on, `http://host:port`. */
  readonly url: string;
  readonly services: HubServices;
  /** Stops accepting requests, finishes the open ones and closes the database. */
  close(): Promise<void>;
}

/**
 * Opens the database and the data directory and serves the hub: `/api/v1`, `/git`, `/cache`, `/`.
 *
 * @example
 * const hub = await startHub({ listen: "127.0.0.1:0", dataDir, log });
 * await hub.close();
 */
export async function startHub(opts: HubOptions): Promise<RunningHub> {
  const { host, port } = parseListen(opts.listen);
  await mkdir(join(opts.dataDir, "git"), { recursive: true });
  // Created on first start (docs/hub.md), so `hub cache-key` has a key to print before any upload.
  const signingKey = await loadOrCreateSigningKey(opts.dataDir);
  const store = await openHubStore(opts);
  try {
    const { app, services } = await buildHubApp(store, opts);
    const url = await app.listen({ host, port });
    opts.log.info("hub.listening", {
      url,
      cacheKey: signingKey.publicKey,
      publicUrl: opts.publicUrl,
      database: opts.database === undefined ? "sqlite" : "postgres",
    });
    return {
      url,
      services,
      close: async () => {
        await app.close();
        await store.close();
      },
    };
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
}

/**
 * The hub's fastify app over an open store, not yet listening (the wiring of every service).
 */
export async function buildHubApp(
  database: HubStore,
  opts: Pick<HubOptions, "dataDir" | "publicUrl" | "log" | "limits">,
): Promise<{ app: FastifyInstance; services: HubServices }> {
  const { log, dataDir } = opts;
  const limits = opts.limits ?? DEFAULT_HUB_LIMITS;
  const now = () => Date.now();
  // Every service reads and writes through this one store, so each write makes the lookups it
  // remembers for the hot paths (tokens, accounts, roles, visibility) forgotten (db/memo-store.ts).
  const store = memoizeStore(database, { now });
  const tokens = createTokenService({ store, secret: await loadOrCreateJwtSecret(dataDir), now });
  const access = createHubAccess({ store, tokens });
  const services: HubServices = { dataDir, access, environments: createEnvironmentIndex(store, now) };
  const deps: ApiDeps = {
    store,
    access,
    tokens,
    dataDir,
    now,
    hostname: hubHostname(opts.publicUrl),
    branches: cachedBranchLister(dataDir, now),
    // Pushed files are at most limits.blobBytes; this bounds how many of them stay parsed in memory.
    cache: new CommitCache(512, { maxBytes: 128 * 1024 * 1024 }),
    objects: new ObjectReaderPool(),
    limits,
    log,
  };

  // Fastify's own logger is off: requests are logged here as flat JSON lines without headers.
  // bodyLimit bounds the JSON bodies the API parses; git and cache bodies stream past it (they
  // have their own limits).
  const app = Fastify({ logger: false, bodyLimit: limits.apiBodyBytes });
  app.addHook("onClose", async () => deps.objects.closeAll());
  app.addHook("onResponse", async (request, reply) => {
    log.info("hub.request", {
      method: request.method,
      route: request.routeOptions.url ?? "(none)",
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime),
    });
  });
  await registerApiRoutes(app, deps);
  registerGitRoutes(app, services, log, limits);
  registerCacheRoutes(app, services, log, limits);
  registerWebRoutes(app);
  return { app, services };
}

/** The host written into history entries the hub makes: the public host, else this machine's name. */
function hubHostname(publicUrl: string | undefined): string {
  if (publicUrl !== undefined) {
    try {
      return new URL(publicUrl).host;
    } catch {
      // An unparsable --public-url is reported where it is used for links; the machine name will do here.
    }
  }
  return hostname();
}
