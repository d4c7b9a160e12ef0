/**
 * The hub's Nix binary cache: one namespace per owner at `/cache/<owner>` (as Attic and Cachix scope
 * caches), so one owner's uploads never change what another owner's environments receive. nix 2.8's
 * `nix copy --to 'http://hub/cache/<owner>?compression=zstd'` sends GET nix-cache-info, GET
 * `<hash>.narinfo`, HEAD `nar/<file>`, PUT `nar/<file>`, PUT `<hash>.narinfo`, in that order.
 *
 * Uploads need write access to the owner. A NAR must hash to its name and stays within the size
 * limit and the owner's quota; NAR files are stored once for every namespace (by that hash). A
 * narinfo is verified against the NAR the namespace uploaded (FileHash, FileSize, NarHash, NarSize
 * by unpacking it) and its references must already be in the namespace; only then is it signed with
 * the hub's key. A path enters a namespace once: a different second upload is a 409, an identical
 * one is answered as such and stores nothing.
 *
 * Reads of `<owner>`'s namespace: its writers read all of it (they could make any of it readable by
 * pushing an environment); anyone else reads a path only when it is in the closure (within the
 * namespace) of a store path that a lock of one of `<owner>`'s environments they may read lists.
 * Anything else is 404, whether it exists or not.
 */
import { createReadStream } from "node:fs";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ImagelessError, isErrorKind } from "../../errors/imageless-error.js";
import type { Logger } from "../../log/logger.js";
import { isOwner } from "../../names/environment-names.js";
import type { HubServices, Principal } from "../access.js";
import { ForbiddenError } from "../accounts/forbidden-error.js";
import { DEFAULT_HUB_LIMITS, type HubLimits, TooLargeError, tooLarge } from "../hub-limits.js";
import {
  NAR_FILE,
  NARINFO_FILE,
  narFileSize,
  narPath,
  readNarInfoText,
  readUnpacked,
  storeNar,
  writeNarInfoOnce,
  writeUnpacked,
} from "./cache-files.js";
import { NamespaceIndex } from "./namespace-index.js";
import { unpackNar } from "./nar-unpack.js";
import { formatSignedNarInfo, narInfoFingerprint, parseNarInfo, withFileFacts } from "./narinfo.js";
import { CacheReadIndex } from "./read-index.js";
import { loadOrCreateSigningKey, type SigningKey } from "./signing-key.js";
import { judgeUpload } from "./upload-check.js";

/** Nix asks this first; Priority 30 puts the hub before cache.nixos.org (40). */
const CACHE_INFO = "StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 30\n";
const CHALLENGE = 'Basic realm="imageless hub cache", charset="UTF-8"';
const MAX_NARINFO_BYTES = 64 * 1024;
/** A NAR may unpack to at most this many times --max-nar (zstd rarely passes 10× on store paths). */
const UNPACKED_PER_FILE_BYTE = 16;
const PER_OWNER =
  "this hub's cache is per owner: use <hub>/cache/<owner> (e.g. nix copy --to http://hub/cache/acme)";

interface CacheContext {
  readonly services: HubServices;
  readonly key: SigningKey;
  readonly namespaces: NamespaceIndex;
  readonly readers: CacheReadIndex;
  readonly limits: HubLimits;
  readonly log: Logger;
}

type Params = { owner: string; file: string };

/**
 * Registers `/cache/<owner>/…` on `app` in its own scope (request bodies stream unparsed); the
 * signing key is loaded, or created, while the app starts. The un-namespaced `/cache/…` of earlier
 * versions answers 404 with a line naming the per-owner URL.
 *
 * @example
 * registerCacheRoutes(app, services, log);
 * // nix copy --to 'http://127.0.0.1:8080/cache/alice?compression=zstd' --option netrc-file ./netrc /nix/store/…
 */
export function registerCacheRoutes(
  app: FastifyInstance,
  services: HubServices,
  log: Logger,
  limits: HubLimits = DEFAULT_HUB_LIMITS,
): void {
  app.register(async (scope) => {
    const namespaces = new NamespaceIndex(services.dataDir, log);
    const context: CacheContext = {
      services,
      key: await loadOrCreateSigningKey(services.dataDir),
      namespaces,
      readers: new CacheReadIndex(services.dataDir, namespaces, log),
      limits,
      log,
    };
    scope.setErrorHandler((error, request, reply) => {
      // An upload refused early leaves its body unread: close the connection rather than read it all.
      if (!request.raw.readableEnded) void reply.header("connection", "close");
      request.raw.resume();
      return replyError(error, reply, log);
    });
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", (_request, _payload, done) => done(null));
    const legacy = (_request: FastifyRequest, reply: FastifyReply) => sendLine(reply, 404, PER_OWNER);
    scope.all("/cache/:file", legacy);
    scope.all("/cache", legacy);
    scope.get<{ Params: Params }>("/cache/:owner/:file", (request, reply) =>
      serveFile(request, reply, context),
    );
    scope.get<{ Params: Params }>("/cache/:owner/nar/:file", (request, reply) =>
      serveNar(request, reply, context),
    );
    scope.put<{ Params: Params }>("/cache/:owner/:file", (request, reply) =>
      uploadNarInfo(request, reply, context),
    );
    scope.put<{ Params: Params }>("/cache/:owner/nar/:file", (request, reply) =>
      uploadNar(request, reply, context),
    );
  });
}

async function serveFile(request: FastifyRequest<{ Params: Params }>, reply: FastifyReply, c: CacheContext) {
  const { owner, file } = request.params;
  if (isLegacyNar(request.params)) return sendLine(reply, 404, PER_OWNER);
  if (!isOwner(owner)) return notFound(reply);
  if (file === "nix-cache-info") return reply.type("text/x-nix-cache-info").send(CACHE_INFO);
  const hash = NARINFO_FILE.exec(file)?.[1];
  if (hash === undefined) return notFound(reply);
  const principal = await identify(request, c);
  const text = await readNarInfoText(c.services.dataDir, owner, hash);
  if (text === undefined || !(await mayRead(principal, owner, [hash], c))) return notFound(reply);
  return reply.type("text/x-nix-narinfo").send(text);
}

async function serveNar(request: FastifyRequest<{ Params: Params }>, reply: FastifyReply, c: CacheContext) {
  const { owner, file } = request.params;
  if (!isOwner(owner) || !NAR_FILE.test(file)) return notFound(reply);
  const principal = await identify(request, c);
  const naming = [...(await c.namespaces.paths(owner))]
    .filter(([, path]) => path.url === `nar/${file}`)
    .map(([hash]) => hash);
  // A writer's HEAD during `nix copy` also sees the NAR files it uploaded that no narinfo names yet.
  const visible =
    (await isWriter(principal, owner, c)) && (await c.namespaces.hasNar(owner, file))
      ? true
      : naming.length > 0 && (await mayRead(principal, owner, naming, c));
  if (!visible) return notFound(reply);
  const size = await narFileSize(c.services.dataDir, file);
  if (size === undefined) return notFound(reply);
  return reply
    .type("application/x-nix-nar")
    .header("content-length", size)
    .send(createReadStream(narPath(c.services.dataDir, file)));
}

async function uploadNar(request: FastifyRequest<{ Params: Params }>, reply: FastifyReply, c: CacheContext) {
  const { owner, file } = request.params;
  const principal = await requireWriter(request, owner, c);
  const { narBytes, ownerQuotaBytes } = c.limits;
  const announced = Number(request.headers["content-length"] ?? Number.NaN);
  if (announced > narBytes) throw tooLarge(`nar file "${file}"`, announced, narBytes, "--max-nar");
  const free = ownerQuotaBytes - (await c.namespaces.usage(owner));
  const quotaLine = () =>
    new TooLargeError(
      `${owner}'s cache is full: uploading "${file}" would go over its quota of ${ownerQuotaBytes} bytes (hub serve --cache-quota); hub gc removes what no environment uses`,
    );
  if (announced > free || free <= 0) throw quotaLine();
  const maxBytes = Math.min(narBytes, free);
  let stored: Awaited<ReturnType<typeof storeNar>>;
  try {
    stored = await storeNar(c.services.dataDir, file, request.raw, { maxBytes, flag: "--max-nar" });
  } catch (error) {
    if (error instanceof TooLargeError && maxBytes < narBytes) throw quotaLine();
    throw error;
  }
  c.namespaces.addPending(owner, file, stored.size);
  c.log.info("hub.cache.nar_uploaded", { owner, file, by: principal.name, written: stored.written });
  return sendLine(reply, 200, stored.written ? `stored nar/${file}` : `nar/${file} was stored already`);
}

async function uploadNarInfo(
  request: FastifyRequest<{ Params: Params }>,
  reply: FastifyReply,
  c: CacheContext,
) {
  const { owner, file } = request.params;
  if (isLegacyNar(request.params)) return sendLine(reply, 404, PER_OWNER);
  const principal = await requireWriter(request, owner, c);
  const hash = NARINFO_FILE.exec(file)?.[1];
  if (hash === undefined) {
    throw new ImagelessError(
      "invalid-input",
      `cannot store "${file}": this cache accepts <hash>.narinfo and nar/<file> only`,
    );
  }
  const info = parseNarInfo(await readBody(request, MAX_NARINFO_BYTES), `uploaded ${hash}.narinfo`);
  const paths = await c.namespaces.paths(owner);
  const existing = paths.get(hash)?.info;
  const narFile = info.url.slice("nar/".length);
  const nar = existing === undefined ? await narFacts(owner, narFile, info.narSize, c) : undefined;
  const verdict = judgeUpload({
    owner,
    hash,
    info,
    ...(existing === undefined ? {} : { existing }),
    ...(nar === undefined ? {} : { nar }),
    inNamespace: (h) => paths.has(h),
  });
  c.log.info("hub.cache.narinfo_upload", {
    owner,
    path: info.storePath,
    by: principal.name,
    verdict: verdict.kind,
  });
  if (verdict.kind === "invalid") throw new ImagelessError("invalid-input", verdict.message);
  if (verdict.kind === "conflict") return sendLine(reply, 409, verdict.message);
  if (verdict.kind === "identical") {
    return sendLine(
      reply,
      200,
      `${info.storePath} is already in ${owner}'s cache, identical: nothing stored`,
    );
  }
  if (nar === undefined) throw new ImagelessError("internal", "a stored narinfo needs its NAR's facts");
  const measured = withFileFacts(info, nar);
  const text = formatSignedNarInfo(measured, c.key.sign(narInfoFingerprint(measured)));
  if (!(await writeNarInfoOnce(c.services.dataDir, owner, hash, text))) {
    // Another upload of the same path won the race: judge against it.
    return sendLine(
      reply,
      409,
      `${info.storePath} was uploaded to ${owner}'s cache at the same time: try again`,
    );
  }
  await c.namespaces.add(owner, hash, measured, nar.fileSize);
  return sendLine(reply, 200, `stored ${info.storePath} in ${owner}'s cache`);
}

/** `/cache/nar/<file>` of the un-namespaced cache (an owner named "nar" has no NAR files at its top). */
function isLegacyNar(params: Params): boolean {
  return params.owner === "nar" && NAR_FILE.test(params.file);
}

/**
 * What the hub measured of `nar/<file>`, when `owner`'s namespace may use it (unpacked once per
 * file). Unpacking stops one byte past the NarSize the narinfo claims: a NAR that unpacks to more is
 * wrong whatever it holds, and a small file cannot make the hub unpack terabytes.
 */
async function narFacts(owner: string, file: string, claimedSize: number, c: CacheContext) {
  const fileHash = NAR_FILE.exec(file)?.[1];
  if (fileHash === undefined || !(await c.namespaces.hasNar(owner, file))) return undefined;
  const fileSize = await narFileSize(c.services.dataDir, file);
  if (fileSize === undefined) return undefined;
  const maxUnpacked = UNPACKED_PER_FILE_BYTE * c.limits.narBytes;
  if (claimedSize > maxUnpacked)
    throw tooLarge("the NarSize of this narinfo", claimedSize, maxUnpacked, "--max-nar");
  let unpacked = await readUnpacked(c.services.dataDir, file);
  if (unpacked === undefined) {
    try {
      unpacked = await unpackNar(narPath(c.services.dataDir, file), {
        maxBytes: claimedSize,
        flag: "--max-nar",
      });
    } catch (error) {
      if (!(error instanceof TooLargeError)) throw error;
      // Larger than claimed: judgeUpload refuses the NarSize (its hash is never computed).
      return {
        fileHash: `sha256:${fileHash}`,
        fileSize,
        narHash: "sha256:(not computed)",
        narSize: claimedSize + 1,
      };
    }
    await writeUnpacked(c.services.dataDir, file, unpacked);
  }
  return { fileHash: `sha256:${fileHash}`, fileSize, ...unpacked };
}

/** True when the caller may read one of `hashes` (hash parts of paths in `owner`'s namespace). */
async function mayRead(
  principal: Principal | undefined,
  owner: string,
  hashes: readonly string[],
  c: CacheContext,
): Promise<boolean> {
  if (await isWriter(principal, owner, c)) return true;
  if (await readableThrough(principal, owner, hashes, c)) return true;
  // What the index knows grants nothing: an environment pushed since may (issue 8, stale index).
  await c.readers.refresh(owner);
  return readableThrough(principal, owner, hashes, c);
}

async function readableThrough(
  principal: Principal | undefined,
  owner: string,
  hashes: readonly string[],
  c: CacheContext,
): Promise<boolean> {
  const checked = new Set<string>();
  for (const hash of hashes) {
    for (const name of await c.readers.readersOf(owner, hash)) {
      if (checked.has(name)) continue;
      checked.add(name);
      if ((await c.services.access.environmentAccess(principal, owner, name)) !== "none") return true;
    }
  }
  return false;
}

async function isWriter(principal: Principal | undefined, owner: string, c: CacheContext): Promise<boolean> {
  return principal !== undefined && (await c.services.access.ownerAccess(principal, owner)) === "write";
}

async function identify(request: FastifyRequest, c: CacheContext): Promise<Principal | undefined> {
  return c.services.access.identify(request.headers.authorization || undefined);
}

async function requireWriter(request: FastifyRequest, owner: string, c: CacheContext): Promise<Principal> {
  if (!isOwner(owner)) {
    throw new ImagelessError("invalid-input", `cache namespace "${owner}" is not an owner name`);
  }
  const principal = await identify(request, c);
  if (principal === undefined) {
    throw new ImagelessError("unauthorized", `uploading to ${owner}'s cache needs a token`);
  }
  if (!(await isWriter(principal, owner, c))) {
    throw new ForbiddenError(
      `'${principal.name}' may not upload to ${owner}'s cache: it needs write access to ${owner}`,
    );
  }
  return principal;
}

async function readBody(request: FastifyRequest, limit: number): Promise<string> {
  const announced = Number(request.headers["content-length"] ?? Number.NaN);
  if (announced > limit) throw tooLarge("a narinfo", announced, limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request.raw) {
    size += (chunk as Buffer).length;
    if (size > limit) throw tooLarge("a narinfo", undefined, limit);
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
  if (error instanceof TooLargeError) return sendLine(reply, 413, error.message);
  if (isErrorKind(error, "unauthorized"))
    return sendLine(reply.header("WWW-Authenticate", CHALLENGE), 401, error.message);
  if (isErrorKind(error, "invalid-input")) return sendLine(reply, 400, error.message);
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === "number" && status >= 400 && status < 500) {
    return sendLine(reply, status, `request not accepted: ${error instanceof Error ? error.message : ""}`);
  }
  log.error("hub.cache.failed", { error: error instanceof Error ? error.message : String(error) });
  return sendLine(reply, 500, "internal error: see the hub's log");
}

function sendLine(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply.code(status).type("text/plain; charset=utf-8").send(`${message}\n`);
}
