import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { ImagelessError, isErrorKind } from "../errors/imageless-error.js";
import { type ResolvedEnvironment, readCachedGeneration } from "../floxhub/resolve.js";
import { writeFileAtomic } from "../fs/atomic-write.js";
import type { Logger } from "../log/logger.js";
import type { Secret } from "../log/secret.js";
import { type EnvironmentRef, formatEnvironmentRef } from "../names/environment-names.js";

/**
 * What the node remembers about one (environment, token) pair after the hub authorised it: when, and
 * what it resolved. Holds the token's SHA-256, never the token (SPEC §2, §3).
 */
export interface AuthorisationRecord {
  readonly version: 1;
  /** `owner/name`. */
  readonly environment: string;
  /** {@link tokenIdentity} of the token the hub accepted. */
  readonly identity: string;
  /** Epoch ms of the last successful resolve (the hub's authorization check). */
  readonly authorisedAt: number;
  /** The floxmeta commit of the last successful resolve, any generation. */
  readonly lastCommit: string;
  /** The live generation of the last unpinned resolve, and the commit it was read from. */
  readonly live?: { readonly generation: number; readonly commit: string } | undefined;
}

/** Offline grace's verdict: read these commits from the cache, or refuse saying why. */
export type OfflineDecision =
  | { readonly kind: "use-cache"; readonly commits: readonly string[] }
  | { readonly kind: "refuse"; readonly reason: string };

/**
 * Who a token is, for comparing without keeping it: `sha256:<hex>`, or `anonymous` (its own identity:
 * an anonymous start never borrows a token's authorisation). Pure.
 *
 * @example
 * tokenIdentity(undefined); // "anonymous"
 */
export function tokenIdentity(token: Secret | undefined): string {
  if (token === undefined) return "anonymous";
  return `sha256:${createHash("sha256").update(token.reveal()).digest("hex")}`;
}

/**
 * The record after a successful resolve (pure): authorised now; an unpinned resolve also moves `live`,
 * a pinned one keeps the live generation the node last saw.
 */
export function nextAuthorisation(
  previous: AuthorisationRecord | undefined,
  resolved: Pick<ResolvedEnvironment, "ref" | "generation" | "live" | "commit">,
  identity: string,
  now: number,
): AuthorisationRecord {
  const live = resolved.live ? { generation: resolved.generation, commit: resolved.commit } : previous?.live;
  return {
    version: 1,
    environment: `${resolved.ref.owner}/${resolved.ref.name}`,
    identity,
    authorisedAt: now,
    lastCommit: resolved.commit,
    ...(live === undefined ? {} : { live }),
  };
}

/**
 * Whether the record on disk must be replaced by `next` (pure): when what it resolved changed, or its
 * `authorisedAt` is older than a hundredth of the grace, at most a minute. Rewriting it (with its
 * fsync) on every start cost each warm start ~5–15 ms; a record left a minute old only makes an
 * offline start's grace end up to a minute early, never late.
 *
 * @example
 * authorisationChanged(record, { ...record, authorisedAt: record.authorisedAt + 1000 }, 24 * 3600_000); // false
 */
export function authorisationChanged(
  previous: AuthorisationRecord | undefined,
  next: AuthorisationRecord,
  graceMs: number,
): boolean {
  if (previous === undefined) return true;
  const { authorisedAt: before, ...kept } = previous;
  const { authorisedAt: now, ...wanted } = next;
  if (JSON.stringify(kept) !== JSON.stringify(wanted)) return true;
  return now - before >= Math.min(60_000, graceMs / 100);
}

/**
 * Whether a start may run from the node's cache while the hub is unreachable (SPEC §3), pure: only
 * when this token was authorised for the environment within `graceMs`; a pinned generation from any
 * commit the node resolved, an unpinned ref from the last live resolution.
 */
export function decideOffline(
  ref: EnvironmentRef,
  record: AuthorisationRecord | undefined,
  opts: { readonly now: number; readonly graceMs: number },
): OfflineDecision {
  if (record === undefined) {
    return { kind: "refuse", reason: "this token was never authorised for it on this node" };
  }
  const age = opts.now - record.authorisedAt;
  if (age > opts.graceMs) {
    return {
      kind: "refuse",
      reason: `this token was last authorised for it at ${new Date(record.authorisedAt).toISOString()}, longer ago than [floxhub] offline-grace (${formatMs(opts.graceMs)})`,
    };
  }
  if (ref.generation !== undefined) {
    const commits = [record.live?.commit, record.lastCommit].filter((c): c is string => c !== undefined);
    return { kind: "use-cache", commits: [...new Set(commits)] };
  }
  if (record.live === undefined) {
    return { kind: "refuse", reason: "the node never resolved its live generation" };
  }
  return { kind: "use-cache", commits: [record.live.commit] };
}

/** The state a resolve with grace reads and writes. */
export interface GraceOptions {
  /** The node's state directory; records live in `<stateDir>/authorisations/<owner>/<name>/`. */
  readonly stateDir: string;
  /** The floxmeta cache directory, as for `resolveEnvironment`. */
  readonly cacheDir: string;
  readonly graceMs: number;
  readonly log: Logger;
  readonly now: () => number;
}

/**
 * `resolve` with SPEC §3's offline grace around it: a successful resolve refreshes the (env, token)
 * authorisation record; an `unavailable` hub falls back to the node's cache when {@link decideOffline}
 * allows it, logging `start.offline`. `unauthorized` and `not-found` are never softened.
 *
 * @throws {ImagelessError} what `resolve` threw, or `unavailable` saying nothing usable is cached.
 * @example
 * const env = await resolveWithGrace(ref, token, () => resolveEnvironment(ref, opts), graceOptions);
 */
export async function resolveWithGrace(
  ref: EnvironmentRef,
  token: Secret | undefined,
  resolve: () => Promise<ResolvedEnvironment>,
  opts: GraceOptions,
): Promise<ResolvedEnvironment> {
  const identity = tokenIdentity(token);
  const path = recordPath(opts.stateDir, ref, identity);
  let resolved: ResolvedEnvironment;
  try {
    resolved = await resolve();
  } catch (error) {
    if (!isErrorKind(error, "unavailable")) throw error;
    return await startOffline(ref, error, await loadRecord(path), opts);
  }
  try {
    const previous = await loadRecord(path);
    const next = nextAuthorisation(previous, resolved, identity, opts.now());
    if (!authorisationChanged(previous, next, opts.graceMs)) return resolved;
    await mkdir(join(path, ".."), { recursive: true, mode: 0o700 });
    // fsync'd: the one record here that must outlive a machine crash (it is what lets a node start
    // pods offline after a reboot), and now written at most about once a minute per (env, token).
    await writeFileAtomic(path, JSON.stringify(next), 0o600);
  } catch (error) {
    // Without the record this start still runs; only a later offline start loses its grace.
    opts.log.warn("start.authorisation-not-saved", {
      env: formatEnvironmentRef(ref),
      error: error instanceof Error ? error.message : String(error),
    });
  }
  return resolved;
}

async function startOffline(
  ref: EnvironmentRef,
  hubError: ImagelessError,
  record: AuthorisationRecord | undefined,
  opts: GraceOptions,
): Promise<ResolvedEnvironment> {
  const display = formatEnvironmentRef(ref);
  const decision = decideOffline(ref, record, { now: opts.now(), graceMs: opts.graceMs });
  const refuse = (reason: string) =>
    new ImagelessError(
      "unavailable",
      `${hubError.message}; nothing usable is cached on this node: ${reason}; start it again when the hub is reachable`,
      { cause: hubError },
    );
  if (decision.kind === "refuse") throw refuse(decision.reason);
  const cached = await readCachedGeneration(ref, decision.commits, { cacheDir: opts.cacheDir });
  if (cached === undefined) {
    throw refuse(
      ref.generation === undefined
        ? "its last live generation is no longer in the node's cache"
        : `generation ${ref.generation} is not in the node's cache`,
    );
  }
  opts.log.warn("start.offline", {
    env: display,
    generation: cached.generation,
    live: cached.live,
    authorisedAt: record === undefined ? undefined : new Date(record.authorisedAt).toISOString(),
    reason: hubError.message,
  });
  return cached;
}

/** `<stateDir>/authorisations/<owner>/<name>/<identity>.json`; names are validated by the policy parser. */
function recordPath(stateDir: string, ref: EnvironmentRef, identity: string): string {
  return join(stateDir, "authorisations", ref.owner, ref.name, `${identity.replace(":", "-")}.json`);
}

/**
 * Read on every start, synchronously: a few hundred bytes cost µs, an awaited readFile four thread-pool
 * round trips of the agent's one thread (see writeFileAtomic's non-durable write).
 */
async function loadRecord(path: string): Promise<AuthorisationRecord | undefined> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
  return parseAuthorisationRecord(text);
}

/** A record as written by {@link resolveWithGrace}, or undefined for anything else (then: no grace). Pure. */
export function parseAuthorisationRecord(text: string): AuthorisationRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (v["version"] !== 1 || typeof v["environment"] !== "string" || typeof v["identity"] !== "string")
    return undefined;
  if (typeof v["authorisedAt"] !== "number" || typeof v["lastCommit"] !== "string") return undefined;
  const live = v["live"];
  let parsedLive: AuthorisationRecord["live"];
  if (typeof live === "object" && live !== null) {
    const l = live as Record<string, unknown>;
    if (typeof l["generation"] === "number" && typeof l["commit"] === "string") {
      parsedLive = { generation: l["generation"], commit: l["commit"] };
    }
  }
  return {
    version: 1,
    environment: v["environment"],
    identity: v["identity"],
    authorisedAt: v["authorisedAt"],
    lastCommit: v["lastCommit"],
    ...(parsedLive === undefined ? {} : { live: parsedLive }),
  };
}

function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
