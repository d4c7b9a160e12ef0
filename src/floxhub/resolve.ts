import { randomBytes } from "node:crypto";
import { access, mkdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { ImagelessError } from "../errors/imageless-error.js";
import { ObjectReader, withObjectReader } from "../git/object-reader.js";
import { deleteRef, moveRef } from "../git/refs.js";
import { runGit } from "../git/run-git.js";
import type { Logger } from "../log/logger.js";
import { Secret } from "../log/secret.js";
import {
  type EnvironmentRef,
  formatEnvironmentRef,
  parseEnvironmentName,
} from "../names/environment-names.js";
import { floxmetaUrl } from "./git-url.js";
import { parseGenerationsMetadata } from "./metadata.js";
import {
  createRefAdvertisementClient,
  type RefAdvertisementClient,
  type TipLookup,
} from "./ref-advertisement-client.js";

/** Where and how to resolve. */
export interface ResolveOptions {
  /** Git base URL (`deriveGitBaseUrl`), e.g. `https://api.flox.dev/git` or `file:///srv/floxmeta`. */
  readonly gitBase: string;
  /** Directory of the node's bare cache repositories, one per owner (`<cacheDir>/<owner>.git`). */
  readonly cacheDir: string;
  readonly token?: Secret;
  readonly log: Logger;
  /** What a long-lived caller (the node agent) keeps between starts; see {@link createResolveSession}. */
  readonly session?: ResolveSession;
}

/**
 * Kept between starts: an HTTP client for branch tips (kept-alive connections, shared concurrent
 * lookups) and what was already read from immutable commits. Holds no authorization: every start
 * still asks the hub for the tip with its own token; only the content of a commit the node already
 * has is not read again.
 */
export interface ResolveSession {
  readonly refs: RefAdvertisementClient;
  /** `<repo>\0<commit>\0<generation|live>` → what readGeneration returned. */
  readonly reads: Map<string, GenerationRead>;
  /** `<repo>\0<commit>` of commits known to be in the cache repository. */
  readonly commits: Set<string>;
}

type GenerationRead = { generation: number; lockText: string; manifestText?: string };

/** Entries kept per cache before the oldest go (a read is a few KB). */
const SESSION_LIMIT = 512;

/** A new, empty session. */
export function createResolveSession(): ResolveSession {
  return { refs: createRefAdvertisementClient(), reads: new Map(), commits: new Set() };
}

/** One generation of an environment, read from the hub. */
export interface ResolvedEnvironment {
  readonly ref: EnvironmentRef;
  readonly generation: number;
  /** True when the ref named no generation, so `generation` is the live one. */
  readonly live: boolean;
  /** The floxmeta commit the generation was read from. */
  readonly commit: string;
  readonly lockText: string;
  readonly manifestText?: string;
  /** True when this call fetched from the hub (the branch tip was not in the cache). */
  readonly fetched: boolean;
  /** True when read from the node's cache because the hub was unreachable (offline grace, SPEC §3). */
  readonly offline?: boolean;
}

/**
 * Resolves `owner/name[:N]` against the hub: one `ls-remote` (the per-start authorization check),
 * a fetch into the node cache only when the branch tip is not there yet, then `metadata.json` and the
 * generation's `manifest.lock` (+ `manifest.toml`) read from that commit.
 *
 * @throws {ImagelessError} `not-found` (no such environment or generation), `unauthorized`,
 *   `unavailable` (hub unreachable, the caller may apply offline grace), `unsupported`/`invalid-input`
 *   (metadata or lock it cannot use).
 * @example
 * const env = await resolveEnvironment({ owner: "acme", name: "web" }, { gitBase, cacheDir, token, log });
 * env.generation; // the live generation, e.g. 4
 */
export async function resolveEnvironment(
  ref: EnvironmentRef,
  opts: ResolveOptions,
): Promise<ResolvedEnvironment> {
  const display = `${ref.owner}/${ref.name}`;
  // A ref built in code (not parsed from an annotation) reaches git as a branch name: check it here too.
  parseEnvironmentName(ref.name, "environment name");
  const url = floxmetaUrl(opts.gitBase, ref.owner);
  const started = Date.now();
  // A first start also creates the owner's cache repository (a `git init`): while the hub answers,
  // not after. Its failure is thrown only once the hub has said the environment exists.
  const repoReady = ensureCacheRepo(opts.cacheDir, ref.owner);
  repoReady.catch(() => {});
  const remoteTip = await branchTip(url, ref, opts);
  if (remoteTip === undefined) {
    throw new ImagelessError("not-found", `environment '${display}' not found at ${opts.gitBase}`);
  }
  const repo = await repoReady;
  // git starts only at the first read: a warm start that the session answers runs none.
  const objects = new ObjectReader(repo);
  let commit = remoteTip;
  let fetched: boolean;
  let read: GenerationRead;
  try {
    fetched = !(await hasKnownCommit(objects, remoteTip, opts.session));
    if (fetched) commit = await fetchBranch(objects, url, ref, opts);
    remember(opts.session?.commits, `${repo}\0${commit}`);
    read = await readGenerationOnce(objects, commit, ref, opts.session);
  } finally {
    objects.close();
  }
  const { generation, lockText, manifestText } = read;
  opts.log.info("floxhub.resolved", {
    env: display,
    generation,
    live: ref.generation === undefined,
    commit,
    fetched,
    ms: Date.now() - started,
  });
  return Object.freeze({
    ref,
    generation,
    live: ref.generation === undefined,
    commit,
    lockText,
    ...(manifestText === undefined ? {} : { manifestText }),
    fetched,
  });
}

/**
 * Reads `ref` from the node's cache alone, no hub request: the first of `commits` (floxmeta commits the
 * node resolved before, newest first; the cached branch tip is tried last) whose `metadata.json` has
 * the generation. For an unpinned ref that is the live generation of the first readable commit.
 * Undefined when the cache holds no such generation. Offline grace only (SPEC §3): the caller has
 * already decided that this token may use it.
 */
export async function readCachedGeneration(
  ref: EnvironmentRef,
  commits: readonly string[],
  opts: Pick<ResolveOptions, "cacheDir">,
): Promise<ResolvedEnvironment | undefined> {
  const repo = join(opts.cacheDir, `${ref.owner}.git`);
  if (!(await isRepo(repo))) return undefined;
  return await withObjectReader(repo, async (objects) => {
    for (const commit of [...commits, `refs/heads/${ref.name}`]) {
      if ((await objects.resolveCommit(commit)) === undefined) continue;
      try {
        const read = await readGeneration(objects, commit, ref);
        return Object.freeze({
          ref,
          live: ref.generation === undefined,
          commit,
          fetched: false,
          offline: true,
          ...read,
        });
      } catch (error) {
        if (!(error instanceof ImagelessError)) throw error;
        // This commit does not have the generation (or is unreadable): try the next one.
      }
    }
    return undefined;
  });
}

/** `metadata.json` at `commit` → the generation for `ref` → its lock and manifest. */
async function readGeneration(
  objects: ObjectReader,
  commit: string,
  ref: EnvironmentRef,
): Promise<{ generation: number; lockText: string; manifestText?: string }> {
  const display = `${ref.owner}/${ref.name}`;
  const [metadataText] = await objects.readTextFiles(commit, ["metadata.json"]);
  if (metadataText === undefined) {
    throw new ImagelessError(
      "invalid-input",
      `environment '${display}' has no metadata.json: not a Flox generations branch`,
    );
  }
  const meta = parseGenerationsMetadata(metadataText, `metadata.json of '${display}'`);
  const generation = pickGeneration(ref, meta.generations, meta.liveGeneration);
  const [lockText, manifestText] = await objects.readTextFiles(commit, [
    `${generation}/env/manifest.lock`,
    `${generation}/env/manifest.toml`,
  ]);
  if (lockText === undefined) {
    throw new ImagelessError(
      "unsupported",
      `generation ${generation} of '${display}' has no manifest.lock: imageless runs locked environments only; lock it with the Flox CLI (e.g. flox edit or flox upgrade) and push`,
    );
  }
  return { generation, lockText, ...(manifestText === undefined ? {} : { manifestText }) };
}

/** The generation to use (pure): the pinned one if it exists, else the live one. */
export function pickGeneration(
  ref: EnvironmentRef,
  generations: readonly number[],
  live: number | undefined,
): number {
  const display = `${ref.owner}/${ref.name}`;
  const existing =
    generations.length === 0 ? "none exist yet" : `existing generations: ${summarise(generations)}`;
  if (ref.generation === undefined) {
    if (live === undefined)
      throw new ImagelessError("not-found", `environment '${display}' has no live generation: ${existing}`);
    return live;
  }
  if (!generations.includes(ref.generation)) {
    throw new ImagelessError(
      "not-found",
      `environment '${formatEnvironmentRef(ref)}': generation ${ref.generation} does not exist: ${existing}`,
    );
  }
  return ref.generation;
}

function summarise(generations: readonly number[]): string {
  const shown =
    generations.length > 20 ? [...generations.slice(0, 3), "…", ...generations.slice(-5)] : generations;
  return shown.join(", ");
}

/**
 * The branch tip the hub advertises to this token: over HTTP(S) from the ref advertisement, without
 * a git process (the per-start authorization check); `file://` and servers that do not speak smart
 * HTTP directly through `git ls-remote`. Undefined when the branch does not exist.
 */
async function branchTip(
  url: string,
  ref: EnvironmentRef,
  opts: ResolveOptions,
): Promise<string | undefined> {
  if (opts.session !== undefined && /^https?:\/\//.test(url)) {
    let found: TipLookup;
    try {
      found = await opts.session.refs.branchTip(url, ref.name, opts.token);
    } catch (error) {
      throw hubError(error, `${ref.owner}/${ref.name}`, opts);
    }
    if (found.kind === "tip") return found.commit;
    if (found.kind === "absent") return undefined;
    opts.log.debug("floxhub.not-smart-http", { url, why: found.why });
  }
  return lsRemote(url, ref, opts);
}

async function hasKnownCommit(
  objects: ObjectReader,
  sha: string,
  session: ResolveSession | undefined,
): Promise<boolean> {
  if (session?.commits.has(`${objects.repo}\0${sha}`)) return true;
  return (await objects.resolveCommit(sha)) !== undefined;
}

/** {@link readGeneration}, once per (commit, generation) in a session: a commit's content never changes. */
async function readGenerationOnce(
  objects: ObjectReader,
  commit: string,
  ref: EnvironmentRef,
  session: ResolveSession | undefined,
): Promise<GenerationRead> {
  const key = `${objects.repo}\0${commit}\0${ref.generation ?? "live"}`;
  const known = session?.reads.get(key);
  if (known !== undefined) return known;
  const read = await readGeneration(objects, commit, ref);
  if (session !== undefined) {
    if (session.reads.size >= SESSION_LIMIT) session.reads.delete(session.reads.keys().next().value ?? "");
    session.reads.set(key, read);
  }
  return read;
}

function remember(set: Set<string> | undefined, key: string): void {
  if (set === undefined) return;
  if (set.size >= SESSION_LIMIT * 8) set.clear();
  set.add(key);
}

async function lsRemote(url: string, ref: EnvironmentRef, opts: ResolveOptions): Promise<string | undefined> {
  const display = `${ref.owner}/${ref.name}`;
  let stdout: Buffer;
  try {
    ({ stdout } = await runGit(["ls-remote", "--", url, `refs/heads/${ref.name}`], gitAuth(url, opts)));
  } catch (error) {
    throw hubError(error, display, opts);
  }
  const line = stdout
    .toString("utf8")
    .split("\n")
    .find((l) => l.endsWith(`\trefs/heads/${ref.name}`));
  const sha = line?.split("\t")[0];
  return sha !== undefined && /^[0-9a-f]{40,64}$/.test(sha) ? sha : undefined;
}

/** Says what was being done, once, for a failure of git against the hub. */
function hubError(error: unknown, display: string, opts: ResolveOptions): unknown {
  if (!(error instanceof ImagelessError)) return error;
  const base = opts.gitBase;
  const detail = error.message;
  switch (error.kind) {
    case "not-found":
      return new ImagelessError("not-found", `environment '${display}' not found at ${base}`, {
        cause: error,
      });
    case "unauthorized":
      return new ImagelessError(
        "unauthorized",
        // git's own line here is "could not read Username … terminal prompts disabled", which
        // misleads; the cause keeps it for the log.
        `environment '${display}' at ${base}: access denied: ${opts.token === undefined ? "no FloxHub token was given; mount the floxhub-token secret" : "the FloxHub token was refused; check that it is valid and may read this environment"}`,
        { cause: error },
      );
    case "unavailable":
      return new ImagelessError(
        "unavailable",
        `environment '${display}': FloxHub at ${base} is unreachable: ${detail}`,
        {
          cause: error,
        },
      );
    default:
      return new ImagelessError(error.kind, `environment '${display}' at ${base}: ${detail}`, {
        cause: error,
      });
  }
}

// Without a token, Basic `oauth:` with an empty password, as Flox's credential helper sends: a hub
// whose owner has private environments answers a bare anonymous request with a 401 challenge (git
// cannot prompt here), and serves the public view to an empty password.
const ANONYMOUS = new Secret("");

function gitAuth(url: string, opts: ResolveOptions): { token?: Secret; authUrl?: string } {
  return { token: opts.token ?? ANONYMOUS, authUrl: url };
}

/**
 * Creates `<cacheDir>/<owner>.git` if needed. Parallel starts may race here: each initialises a
 * private temporary repository and renames it into place; rename is atomic, so the loser finds a
 * complete repository and discards its own.
 */
async function ensureCacheRepo(cacheDir: string, owner: string): Promise<string> {
  const repo = join(cacheDir, `${owner}.git`);
  if (await isRepo(repo)) return repo;
  await mkdir(cacheDir, { recursive: true });
  const temp = join(cacheDir, `.init-${owner}-${process.pid}-${randomBytes(4).toString("hex")}`);
  try {
    await runGit(["init", "--quiet", "--bare", temp]);
    await rename(temp, repo).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOTEMPTY" && error.code !== "EEXIST") throw error;
    });
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
  return repo;
}

/** A stat instead of a git spawn: the repository only appears by rename, complete. */
async function isRepo(dir: string): Promise<boolean> {
  try {
    await access(join(dir, "HEAD"));
    return true;
  } catch {
    return false;
  }
}

/**
 * Fetches branch `name` into the cache and returns the commit fetched (which may be newer than the
 * ls-remote answer if someone pushed in between; it is read consistently either way).
 *
 * Concurrency: parallel starts on a node may fetch the same owner at once. Concurrent fetches into one
 * repository are not safe on git 2.39: a fetch negotiating with the refs of another one still writing
 * its pack failed with "bad object refs/imageless/fetch/…" (seen in CI). So fetches of one owner hold
 * a flock(2) on `<repo>/imageless-fetch.lock` (the kernel releases it if the start is killed: it cannot
 * go stale), while reads stay lock-free. Each fetch still writes its own ref
 * `refs/imageless/fetch/<unique>` and no FETCH_HEAD; afterwards `refs/heads/<name>` is moved (it keeps
 * the objects from being collected) and the private ref is deleted.
 */
async function fetchBranch(
  objects: ObjectReader,
  url: string,
  ref: EnvironmentRef,
  opts: ResolveOptions,
): Promise<string> {
  const display = `${ref.owner}/${ref.name}`;
  const repo = objects.repo;
  const privateRef = `refs/imageless/fetch/${process.pid}-${randomBytes(6).toString("hex")}`;
  try {
    // unpackLimit=1 keeps every fetch one pack, which appears only when complete (its index is
    // renamed in last); loose objects could leave a commit visible without its trees if killed.
    const refspec = `+refs/heads/${ref.name}:${privateRef}`;
    await runGit(
      [
        "--git-dir",
        repo,
        "-c",
        "fetch.unpackLimit=1",
        "fetch",
        "--quiet",
        "--no-tags",
        "--no-write-fetch-head",
        "--",
        url,
        refspec,
      ],
      { ...gitAuth(url, opts), lockFile: join(repo, "imageless-fetch.lock") },
    );
  } catch (error) {
    await dropRef(repo, privateRef);
    throw hubError(error, display, opts);
  }
  const commit = await objects.resolveCommit(privateRef);
  if (commit === undefined) {
    throw new ImagelessError(
      "internal",
      `git fetch of '${display}' into ${repo} left no commit at ${privateRef}`,
    );
  }
  // Two refs, two git processes: side by side (the drop's failure is ignored anyway).
  await Promise.all([updateBranch(repo, ref.name, commit), dropRef(repo, privateRef)]);
  return commit;
}

async function updateBranch(repo: string, name: string, commit: string): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await moveRef(repo, `refs/heads/${name}`, commit, "any");
      return;
    } catch {
      // Another start holds the ref's lock right now; its commit is as good as ours.
      await new Promise((r) => setTimeout(r, 20 * (attempt + 1)));
    }
  }
}

async function dropRef(repo: string, ref: string): Promise<void> {
  await deleteRef(repo, ref, "any").catch(() => {});
}
