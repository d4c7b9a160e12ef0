import { ImagelessError } from "../errors/imageless-error.js";
import { parseJson } from "../errors/parse-json.js";

/** One change to an environment (metadata.json v2 `history[]`): who did what, where and when. */
export interface HistoryEntry {
  /** `initialize`, `install`, `edit`, `switch_generation`, … (unknown kinds are kept). */
  readonly kind: string;
  readonly author: string;
  readonly hostname: string;
  /** Unix seconds. */
  readonly timestamp: number;
  /** The generation live after this change. */
  readonly currentGeneration: number;
  readonly previousGeneration?: number;
  readonly command?: readonly string[];
  readonly targets?: readonly string[];
  readonly summary?: string;
  /** The entry exactly as stored, unknown fields included. */
  readonly raw: Readonly<Record<string, unknown>>;
}

/** What the runtime needs from a floxmeta branch's `metadata.json`. */
export interface GenerationsMetadata {
  readonly version: 1 | 2;
  /** Absent when no generation exists yet (a freshly initialised branch). */
  readonly liveGeneration?: number;
  /** Every generation that exists, ascending. */
  readonly generations: readonly number[];
  /** v2 history, oldest first; empty for v1. */
  readonly history: readonly HistoryEntry[];
}

/** A metadata.json v2 document as stored (snake_case), the shape the writers below produce. */
export interface MetadataJson {
  readonly version: 2;
  readonly total_generations: number;
  readonly history: readonly Readonly<Record<string, unknown>>[];
  readonly [key: string]: unknown;
}

/** The who/when/why of a change, given to the writers. */
export interface ChangeInfo {
  /** Defaults to `edit`; `other` needs a `summary` in Flox's schema. */
  readonly kind?: string;
  readonly author: string;
  readonly hostname: string;
  readonly timestamp: number;
  readonly command?: readonly string[] | null;
  readonly targets?: readonly string[];
  readonly summary?: string;
}

/**
 * Parses a floxmeta `metadata.json` (version 2, or the legacy version 1 with `currentGen`).
 *
 * @param source names the input in errors, e.g. `metadata.json of 'acme/web'`.
 * @throws {ImagelessError} `unsupported` for other versions, `invalid-input` for malformed content.
 * @example
 * const meta = parseGenerationsMetadata(text, "metadata.json of 'acme/web'");
 * meta.liveGeneration; // 3
 */
export function parseGenerationsMetadata(text: string, source: string): GenerationsMetadata {
  const data = parseJson(text, source);
  const top = object(data, source);
  const version = top["version"];
  if (version === 2) return parseV2(top, source);
  if (version === 1) return parseV1(top, source);
  throw new ImagelessError(
    "unsupported",
    `${source} has version ${JSON.stringify(version ?? null)}: this imageless reads versions 1 and 2; update imageless`,
  );
}

function parseV2(top: Record<string, unknown>, source: string): GenerationsMetadata {
  const total = top["total_generations"];
  if (typeof total !== "number" || !Number.isSafeInteger(total) || total < 0) {
    throw new ImagelessError("invalid-input", `${source}: total_generations must be an integer ≥ 0`);
  }
  const rawHistory = top["history"];
  if (!Array.isArray(rawHistory))
    throw new ImagelessError("invalid-input", `${source}: history must be a list`);
  const history = rawHistory.map((entry, i) => parseEntry(entry, `${source}: history[${i}]`));
  // Like Flox's own per-generation view, the generations are the ones history names: every creation
  // appends an entry, and total_generations is only the counter for the next id.
  const generations = new Set(history.map((entry) => entry.currentGeneration));
  const last = history.at(-1);
  return Object.freeze({
    version: 2,
    ...(last === undefined ? {} : { liveGeneration: last.currentGeneration }),
    generations: Object.freeze([...generations].sort((a, b) => a - b)),
    history: Object.freeze(history),
  });
}

function parseV1(top: Record<string, unknown>, source: string): GenerationsMetadata {
  const gens = object(top["generations"] ?? {}, `${source}: generations`);
  const generations = Object.keys(gens)
    .map((id) => generationId(id, `${source}: generations key`))
    .sort((a, b) => a - b);
  const current = top["currentGen"];
  const live =
    current === undefined || current === null ? undefined : generationId(current, `${source}: currentGen`);
  return Object.freeze({
    version: 1,
    ...(live === undefined ? {} : { liveGeneration: live }),
    generations: Object.freeze(generations),
    history: Object.freeze([]),
  });
}

function parseEntry(value: unknown, where: string): HistoryEntry {
  const o = object(value, where);
  const kind = o["kind"];
  if (typeof kind !== "string") throw new ImagelessError("invalid-input", `${where}.kind must be a string`);
  const timestamp = o["timestamp"];
  if (typeof timestamp !== "number" || !Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new ImagelessError("invalid-input", `${where}.timestamp must be Unix seconds (an integer ≥ 0)`);
  }
  const previous = o["previous_generation"];
  const command = optionalStrings(o["command"], `${where}.command`);
  const targets = optionalStrings(o["targets"], `${where}.targets`);
  const summary = o["summary"];
  return Object.freeze({
    kind,
    author: requiredString(o, "author", where),
    hostname: requiredString(o, "hostname", where),
    timestamp,
    currentGeneration: generationId(o["current_generation"], `${where}.current_generation`),
    ...(previous === undefined || previous === null
      ? {}
      : { previousGeneration: generationId(previous, `${where}.previous_generation`) }),
    ...(command === undefined ? {} : { command }),
    ...(targets === undefined ? {} : { targets }),
    ...(typeof summary === "string" ? { summary } : {}),
    raw: o,
  });
}

/** Generation ids are decimal strings in Flox's files (`"3"`); numbers are accepted too. */
function generationId(value: unknown, where: string): number {
  const n = typeof value === "string" && /^[1-9][0-9]{0,8}$/.test(value) ? Number(value) : value;
  if (typeof n === "number" && Number.isSafeInteger(n) && n >= 1) return n;
  throw new ImagelessError(
    "invalid-input",
    `${where} cannot be ${JSON.stringify(value)}: it must be a generation number ≥ 1`,
  );
}

function optionalStrings(value: unknown, where: string): readonly string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return Object.freeze([...value]);
  throw new ImagelessError("invalid-input", `${where} must be a list of strings`);
}

function requiredString(o: Record<string, unknown>, key: string, where: string): string {
  const v = o[key];
  if (typeof v === "string") return v;
  throw new ImagelessError("invalid-input", `${where}.${key} must be a string`);
}

function object(value: unknown, where: string): Record<string, unknown> {
  if (typeof value === "object" && value !== null && !Array.isArray(value))
    return value as Record<string, unknown>;
  throw new ImagelessError("invalid-input", `${where} must be a JSON object`);
}

/** The metadata of a freshly initialised generations branch (no generation yet). */
export function initialMetadata(): MetadataJson {
  return { version: 2, total_generations: 0, history: [] };
}

/**
 * Records a new generation `total_generations + 1` and makes it live (pure; returns a new object,
 * unknown fields kept).
 *
 * @example
 * const meta = appendGeneration(initialMetadata(), { kind: "initialize", author: "a", hostname: "h", timestamp: 1 });
 * meta.history[0]?.current_generation; // "1"
 */
export function appendGeneration(meta: MetadataJson, entry: ChangeInfo): MetadataJson {
  const next = meta.total_generations + 1;
  const live = liveOf(meta);
  return {
    ...meta,
    total_generations: next,
    history: [...meta.history, historyJson(entry, entry.kind ?? "edit", next, live)],
  };
}

/**
 * Records a switch of the live generation to `to` (pure; the generation count is unchanged).
 *
 * @throws {ImagelessError} `not-found` when generation `to` does not exist.
 */
export function appendSwitch(meta: MetadataJson, to: number, entry: ChangeInfo): MetadataJson {
  if (!Number.isSafeInteger(to) || to < 1 || to > meta.total_generations) {
    throw new ImagelessError(
      "not-found",
      `cannot switch to generation ${to}: generations 1 to ${meta.total_generations} exist`,
    );
  }
  return { ...meta, history: [...meta.history, historyJson(entry, "switch_generation", to, liveOf(meta))] };
}

function liveOf(meta: MetadataJson): string | undefined {
  const current = meta.history.at(-1)?.["current_generation"];
  return current === undefined ? undefined : String(current);
}

function historyJson(entry: ChangeInfo, kind: string, current: number, previous: string | undefined) {
  return {
    kind,
    ...(entry.targets === undefined ? {} : { targets: [...entry.targets] }),
    ...(entry.summary === undefined ? {} : { summary: entry.summary }),
    author: entry.author,
    hostname: entry.hostname,
    command: entry.command === undefined || entry.command === null ? null : [...entry.command],
    timestamp: entry.timestamp,
    current_generation: String(current),
    previous_generation: previous ?? null,
  };
}
