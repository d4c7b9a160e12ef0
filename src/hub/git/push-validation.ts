/**
 * What a push to a floxmeta repository may change (pure decisions; the pre-receive hook gathers the
 * facts from git). A push is refused with one line a person can act on, and the branch stays as it was.
 */
import { ImagelessError } from "../../errors/imageless-error.js";
import { type GenerationsMetadata, parseGenerationsMetadata } from "../../floxhub/metadata.js";
import { parseEnvironmentName } from "../../names/environment-names.js";
import { tooLarge } from "../hub-limits.js";

/** One line of pre-receive's stdin: `<old-id> <new-id> <ref>`. */
export interface RefUpdate {
  readonly oldId: string;
  readonly newId: string;
  readonly ref: string;
}

/** The environment variable through which the git service tells the hook what the pusher may do. */
export const PUSH_ACCESS_VARIABLE = "IMAGELESS_HUB_PUSH_ACCESS";

/** The environment variable through which the git service tells the hook the largest file accepted. */
export const MAX_BLOB_VARIABLE = "IMAGELESS_HUB_MAX_BLOB";

/** What the pusher may do under the owner, decided by the hub before git runs. */
export interface PushAccess {
  /** May create new environments (owner write access). */
  readonly create: boolean;
  /** Existing environments the pusher may write. */
  readonly write: readonly string[];
}

/** What the hook read from git about one branch update. */
export interface BranchFacts {
  /** True when the old tip is an ancestor of the new one (always true for a new branch). */
  readonly fastForward: boolean;
  /** `metadata.json` at the old tip; undefined for a new branch. */
  readonly oldMetadata?: string;
  /** `metadata.json` at the new tip; undefined when the file is missing. */
  readonly newMetadata?: string;
  /** Every file path in the new tip's tree. */
  readonly newFiles: ReadonlySet<string>;
  /** The largest file of the new tip's tree (read before any file is). */
  readonly largestFile?: { readonly path: string; readonly bytes: number };
  /** The largest file accepted, bytes (`hub serve --max-blob`). */
  readonly maxFileBytes?: number;
}

/** The verdict on one ref update: accepted, or refused with a one-line reason. */
export type PushVerdict = { readonly accepted: true } | { readonly accepted: false; readonly reason: string };

const ACCEPTED: PushVerdict = Object.freeze({ accepted: true });
const BRANCH_PREFIX = "refs/heads/";

/** True for git's all-zero object id (a created or deleted ref). */
export function isZeroId(id: string): boolean {
  return /^0+$/.test(id);
}

/**
 * Decides from the ref name and the pusher's access alone whether an update may go on to content
 * checks: only `refs/heads/<environment>`, no deletion, and write access to the environment (or owner
 * write access for a new one).
 *
 * @example
 * checkRefUpdate({ oldId: "0".repeat(40), newId: "ab…", ref: "refs/tags/v1" }, { create: true, write: [] });
 * // { accepted: false, reason: "refs/tags/v1: only environment branches (refs/heads/<name>) can be pushed" }
 */
export function checkRefUpdate(update: RefUpdate, access: PushAccess): PushVerdict {
  if (!update.ref.startsWith(BRANCH_PREFIX)) {
    return refuse(`${update.ref}: only environment branches (refs/heads/<name>) can be pushed`);
  }
  const name = update.ref.slice(BRANCH_PREFIX.length);
  try {
    // The same names the API accepts, so every pushed environment can be shown and switched.
    parseEnvironmentName(name, "environment name");
  } catch (error) {
    if (error instanceof ImagelessError) return refuse(error.message);
    throw error;
  }
  if (isZeroId(update.newId)) {
    return refuse(`environment '${name}': deleting an environment by push is not supported`);
  }
  const isNew = isZeroId(update.oldId);
  if (isNew && !access.create) {
    return refuse(`environment '${name}': creating environments here needs write access to the owner`);
  }
  if (!isNew && !access.write.includes(name)) {
    return refuse(`environment '${name}': pushing needs write access to it`);
  }
  return ACCEPTED;
}

/**
 * Decides whether the new tip keeps Flox's floxmeta layout and only adds to the environment's history:
 * `metadata.json` parses, every generation it names has `N/env/manifest.toml`, a live generation
 * exists, and the old tip's history and generations are all still there (a fast-forward).
 *
 * @example
 * validateBranchUpdate("web", { fastForward: true, newMetadata: "{", newFiles: new Set() });
 * // { accepted: false, reason: "environment 'web': metadata.json is not valid JSON: …" }
 */
export function validateBranchUpdate(name: string, facts: BranchFacts): PushVerdict {
  const where = `environment '${name}'`;
  if (!facts.fastForward) {
    return refuse(`${where}: history was rewritten (not a fast-forward); pull and add a generation instead`);
  }
  const largest = facts.largestFile;
  if (largest !== undefined && facts.maxFileBytes !== undefined && largest.bytes > facts.maxFileBytes) {
    const line = tooLarge(largest.path, largest.bytes, facts.maxFileBytes, "--max-blob").message;
    return refuse(`${where}: ${line}`);
  }
  if (facts.newMetadata === undefined) return refuse(`${where}: metadata.json is missing`);
  const next = parse(facts.newMetadata, "metadata.json");
  if (typeof next === "string") return refuse(`${where}: ${next}`);
  if (next.liveGeneration === undefined) return refuse(`${where}: metadata.json has no live generation`);
  for (const generation of next.generations) {
    if (!facts.newFiles.has(`${generation}/env/manifest.toml`)) {
      const live = generation === next.liveGeneration ? "live " : "";
      return refuse(`${where}: ${live}generation ${generation} has no ${generation}/env/manifest.toml`);
    }
  }
  if (!next.generations.includes(next.liveGeneration)) {
    return refuse(`${where}: live generation ${next.liveGeneration} does not exist`);
  }
  if (facts.oldMetadata === undefined) return ACCEPTED;
  const previous = parse(facts.oldMetadata, "metadata.json before this push");
  // A branch already broken on the hub can only be repaired, so judge growth against what parses.
  if (typeof previous === "string") return ACCEPTED;
  return checkGrowth(where, previous, next);
}

function checkGrowth(where: string, previous: GenerationsMetadata, next: GenerationsMetadata): PushVerdict {
  const lost = previous.generations.filter((generation) => !next.generations.includes(generation));
  if (lost.length > 0) {
    return refuse(`${where}: generation ${lost.join(", ")} would be removed; history only grows`);
  }
  if (next.history.length < previous.history.length) {
    return refuse(
      `${where}: history would shrink from ${previous.history.length} to ${next.history.length} entries; history only grows`,
    );
  }
  const changed = previous.history.findIndex((entry, i) => !sameEntry(entry, next.history[i]));
  if (changed >= 0) return refuse(`${where}: history entry ${changed + 1} was changed; history only grows`);
  return ACCEPTED;
}

type Entry = GenerationsMetadata["history"][number];

function sameEntry(a: Entry, b: Entry | undefined): boolean {
  return (
    b !== undefined &&
    a.kind === b.kind &&
    a.timestamp === b.timestamp &&
    a.author === b.author &&
    a.currentGeneration === b.currentGeneration &&
    a.previousGeneration === b.previousGeneration
  );
}

/** The parsed metadata, or the parser's one-line message. */
function parse(text: string, source: string): GenerationsMetadata | string {
  try {
    return parseGenerationsMetadata(text, source);
  } catch (error) {
    if (error instanceof ImagelessError) return error.message;
    throw error;
  }
}

function refuse(reason: string): PushVerdict {
  return Object.freeze({ accepted: false, reason });
}

/**
 * Parses pre-receive's stdin (pure).
 *
 * @throws {ImagelessError} `invalid-input` for a line that is not `<old> <new> <ref>`.
 */
export function parseRefUpdates(text: string): RefUpdate[] {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const match = /^([0-9a-f]{40,64}) ([0-9a-f]{40,64}) (\S+)$/.exec(line.trim());
      if (match === null || match[1] === undefined || match[2] === undefined || match[3] === undefined) {
        throw new ImagelessError(
          "invalid-input",
          `pre-receive input line ${JSON.stringify(line)} is not "<old> <new> <ref>"`,
        );
      }
      return { oldId: match[1], newId: match[2], ref: match[3] };
    });
}

/**
 * The largest file of `git ls-tree -r -l -z` output (pure): `<mode> blob <id> <size>\t<path>` records.
 *
 * @example
 * largestBlob("100644 blob ab… 12\tmetadata.json\0"); // { path: "metadata.json", bytes: 12 }
 */
export function largestBlob(listing: string): { path: string; bytes: number } | undefined {
  let largest: { path: string; bytes: number } | undefined;
  for (const record of listing.split("\0")) {
    const match = /^[0-7]+ blob [0-9a-f]+ +([0-9]+)\t(.*)$/s.exec(record);
    if (match === null) continue;
    const bytes = Number(match[1]);
    if (largest === undefined || bytes > largest.bytes) largest = { path: match[2] ?? "", bytes };
  }
  return largest;
}

/**
 * Parses the pusher's access as the git service encoded it (pure); anything unreadable allows nothing.
 *
 * @example
 * parsePushAccess('{"create":false,"write":["web"]}'); // { create: false, write: ["web"] }
 */
export function parsePushAccess(text: string | undefined): PushAccess {
  const none: PushAccess = { create: false, write: [] };
  if (text === undefined) return none;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return none;
  }
  if (typeof data !== "object" || data === null) return none;
  const create = "create" in data && data.create === true;
  const write = "write" in data && Array.isArray(data.write) ? data.write : [];
  return { create, write: write.filter((name): name is string => typeof name === "string") };
}

/** Encodes access for {@link PUSH_ACCESS_VARIABLE} (pure). */
export function formatPushAccess(access: PushAccess): string {
  return JSON.stringify({ create: access.create, write: [...access.write] });
}
