/**
 * The hub's Nix binary cache at `/cache`: what `nix copy --to 'http://hub/cache?compression=zstd'`
 * uploads (nix 2.8 sends GET nix-cache-info, GET `<hash>.narinfo`, HEAD `nar/<file>`, PUT
 * `nar/<file>`, PUT `<hash>.narinfo`, in that order), re-signed with the hub's key, and served to
 * nodes per environment visibility.
 *
 * Reads: a path is readable by a caller when it is in the closure of a store path that a lock of an
 * environment the caller may read lists (anonymous callers: public environments). Anything else is
 * 404, whether it exists or not. Uploads: any token whose own namespace is writable (every user; an
 * organisation machine token with write access to its organisation). Uploaded paths become readable
 * only through environments, so uploading grants nobody anything; the first upload of a path wins.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ImagelessError, isErrorKind } from "../../errors/imageless-error.js";
import type { Logger } from "../../log/logger.js";
import type { HubServices, Principal } from "../access.js";
import { ForbiddenError } from "../accounts/forbidden-error.js";
import {
  hasNar,
  NAR_FILE,
  NARINFO_FILE,
  narPath,
  readNarInfoText,
  storeNar,
  writeNarInfoOnce,
} from "./cache-files.js";
import { formatSignedNarInfo, hashPart, narInfoFingerprint, parseNarInfo } from "./narinfo.js";
import { CacheReadIndex } from "./read-index.js";
import { loadOrCreateSigningKey, type SigningKey } from "./signing-key.js";

/** Nix asks this first; Priority 30 puts the hub before cache.nixos.org (40). */
const CACHE_INFO = "StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 30\n";
const CHALLENGE = 'Basic realm="imageless hub cache", charset="UTF-8"';
const MAX_NARINFO_BYTES = 1 << 20;

interface CacheContext {
  readonly services: HubServices;
  readonly key: SigningKey;
  readonly index: CacheReadIndex;
  readonly log: Logger;
}

type Params = { file: string };

/**
 * Registers `/cache/…` on `app` in its own scope (request bodies stream unparsed); the signing key is
 * loaded, or created, while the app starts.
 *
 * @example
 * registerCacheRoutes(app, services, log);
 * // nix copy --to 'http://127.0.0.1:8080/cache?compression=zstd' --option netrc-file ./netrc /nix/store/…
 */
export function registerCacheRoutes(app: FastifyInstance, services: HubServices, log: Logger): void {
  app.register(async (scope) => {
    const context: CacheContext = {
      services,
      key: await loadOrCreateSigningKey(services.dataDir),
      index: new CacheReadIndex(services.dataDir, log),
      log,
    };
    scope.setErrorHandler((error, request, reply) => {
      // An upload refused early leaves its body unread; drain it so the connection stays usable.
      request.raw.resume();
      return replyError(error, reply, log);
    });
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", (_request, _payload, done) => done(null));
    scope.get("/cache/nix-cache-info", async (_request, reply) =>
      reply.type("text/x-nix-cache-info").send(CACHE_INFO),
    );
    scope.get<{ Params: Params }>("/cache/:file", (request, reply) => serveNarInfo(request, reply, context));
    scope.get<{ Params: Params }>("/cache/nar/:file", (request, reply) => serveNar(request, reply, context));
    scope.put<{ Params: Params }>("/cache/:file", (request, reply) => uploadNarInfo(request, reply, context));
    scope.put<{ Params: Params }>("/cache/nar/:file", (request, reply) => uploadNar(request, reply, context));
  });
}

async function serveNarInfo(
  request: FastifyRequest<{ Params: Params }>,
  reply: FastifyReply,
  c: CacheContext,
) {
  const hash = NARINFO_FILE.exec(request.params.file)?.[1];
  if (hash === undefined) return notFound(reply);
  const principal = await identify(request, c);
  const text = await readNarInfoText(c.services.dataDir, hash);
  if (text === undefined || !(await mayRead(principal, [hash], c))) return notFound(reply);
  return reply.type("text/x-nix-narinfo").send(text);
}

async function serveNar(request: FastifyRequest<{ Params: Params }>, reply: FastifyReply, c: CacheContext) {
  const file = request.params.file;
  if (!NAR_FILE.test(file)) return notFound(reply);
  const principal = await identify(request, c);
  if (!(await mayRead(principal, await c.index.pathsOfNar(file), c))) return notFound(reply);
  const path = narPath(c.services.dataDir, file);
  const size = await stat(path).then(
    (s) => s.size,
    () => undefined,
  );
  if (size === undefined) return notFound(reply);
  return reply.type("application/x-nix-nar").header("content-length", size).send(createReadStream(path));
}

async function uploadNar(request: FastifyRequest<{ Params: Params }>, reply: FastifyReply, c: CacheContext) {
  const principal = await requireUploader(request, c);
  await storeNar(c.services.dataDir, request.params.file, request.raw);
  c.log.info("hub.cache.nar_uploaded", { file: request.params.file, by: principal.name });
  return reply.code(200).send();
}

async function uploadNarInfo(
  request: FastifyRequest<{ Params: Params }>,
  reply: FastifyReply,
  c: CacheContext,
) {
  const principal = await requireUploader(request, c);
  const hash = NARINFO_FILE.exec(request.params.file)?.[1];
  if (hash === undefined) {
    throw new ImagelessError(
      "invalid-input",
      `cannot store "${request.params.file}": this cache accepts <hash>.narinfo and nar/<file> only`,
    );
  }
  const info = parseNarInfo(await readBody(request, MAX_NARINFO_BYTES), `uploaded ${hash}.narinfo`);
  if (hashPart(info.storePath) !== hash) {
    throw new ImagelessError(
      "invalid-input",
      `${hash}.narinfo: StorePath ${info.storePath} belongs to another name`,
    );
  }
  const narFile = info.url.slice("nar/".length);
  const fileHash = NAR_FILE.exec(narFile)?.[1];
  if (!(await hasNar(c.services.dataDir, narFile))) {
    throw new ImagelessError(
      "invalid-input",
      `${hash}.narinfo: ${info.url} has not been uploaded: upload the nar first`,
    );
  }
  if (info.fileHash !== undefined && info.fileHash !== `sha256:${fileHash}`) {
    throw new ImagelessError(
      "invalid-input",
      `${hash}.narinfo: FileHash ${info.fileHash} does not match ${info.url}`,
    );
  }
  const text = formatSignedNarInfo(info, c.key.sign(narInfoFingerprint(info)));
  const stored = await writeNarInfoOnce(c.services.dataDir, hash, text);
  if (stored) await c.index.add(hash, info.references, info.url);
  c.log.info("hub.cache.uploaded", { path: info.storePath, by: principal.name, stored });
  return reply.code(200).send();
}

/** True when any of `hashes` is readable through an environment the caller may read. */
async function mayRead(principal: Principal | undefined, hashes: readonly string[], c: CacheContext) {
  const checked = new Set<string>();
  for (const hash of hashes) {
    for (const environment of await c.index.readersOf(hash)) {
      if (checked.has(environment)) continue;
      checked.add(environment);
      const [owner = "", name = ""] = environment.split("/");
      if ((await c.services.access.environmentAccess(principal, owner, name)) !== "none") return true;
    }
  }
  return false;
}

async function identify(request: FastifyRequest, c: CacheContext): Promise<Principal | undefined> {
  return c.services.access.identify(request.headers.authorization || undefined);
}

async function requireUploader(request: FastifyRequest, c: CacheContext): Promise<Principal> {
  const principal = await identify(request, c);
  if (principal === undefined)
    throw new ImagelessError("unauthorized", "uploading to the cache needs a token");
  if ((await c.services.access.ownerAccess(principal, principal.name)) !== "write") {
    throw new ForbiddenError(
      `'${principal.name}' may not upload to the cache: it needs write access to its own namespace`,
    );
  }
  return principal;
}

async function readBody(request: FastifyRequest, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request.raw) {
    size += (chunk as Buffer).length;
    if (size > limit)
      throw new ImagelessError("invalid-input", `a narinfo larger than ${limit} bytes is not accepted`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function notFound(reply: FastifyReply) {
  return reply.code(404).type("text/plain; charset=utf-8").send("not found\n");
}

/** One line per error, as text (Nix shows the status; people reading curl output see the line). */
function replyError(error: unknown, reply: FastifyReply, log: Logger): FastifyReply {
  if (error instanceof ForbiddenError) return sendLine(reply, 403, error.message);
  if (isErrorKind(error, "unauthorized"))
    return sendLine(reply.header("WWW-Authenticate", CHALLENGE), 401, error.message);
  if (isErrorKind(error, "invalid-input")) return sendLine(reply, 400, error.message);
  log.error("hub.cache.failed", { error: error instanceof Error ? error.message : String(error) });
  return sendLine(reply, 500, "internal error: see the hub's log");
}

function sendLine(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply.code(status).type("text/plain; charset=utf-8").send(`${message}\n`);
}
