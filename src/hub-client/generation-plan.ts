import { ImagelessError } from "../errors/imageless-error.js";
import {
  appendGeneration,
  type ChangeInfo,
  initialMetadata,
  type MetadataJson,
  parseGenerationsMetadata,
} from "../floxhub/metadata.js";

/** Who pushes, from where, when and with which command. */
export interface PushAuthor {
  /** The handle of the token's account (`GET /accounts/me`). */
  readonly author: string;
  readonly hostname: string;
  /** Unix seconds. */
  readonly timestamp: number;
  readonly command: readonly string[];
}

/** The commit that creates the next generation on a floxmeta branch. */
export interface GenerationCommit {
  readonly generation: number;
  /** The branch had no commit yet: an "Initialize generations branch…" commit comes first. */
  readonly initialize: boolean;
  /** Path in the branch → content; `metadata.json` included. */
  readonly files: Readonly<Record<string, string>>;
  readonly message: string;
}

/** The message of the commit that starts a branch, as Flox writes it. */
export function initializeMessage(name: string): string {
  return `Initialize generations branch for environment '${name}'`;
}

/** `metadata.json` of a freshly initialised branch, as committed. */
export function initialMetadataText(): string {
  return serialiseMetadata(initialMetadata());
}

/**
 * The next generation of environment `name` (pure): `N/env/manifest.toml`, `N/env/manifest.lock` and
 * `metadata.json` with one new history entry making N live, as `flox push` records it (`import` for
 * an environment's first generation, `edit` after that; author, hostname, timestamp, command and the
 * previous live generation).
 *
 * @param metadataText the branch's current `metadata.json`; undefined when the branch does not exist.
 * @throws {ImagelessError} `unsupported` for metadata of a version this imageless does not write.
 * @example
 * const plan = planGeneration(undefined, { manifestToml, lockText }, { name: "web", author: "alice",
 *   hostname: "laptop", timestamp: 1717000000, command: ["imageless", "env", "push"] });
 * plan.generation; // 1
 */
export function planGeneration(
  metadataText: string | undefined,
  content: { manifestToml: string; lockText: string },
  change: PushAuthor & { name: string },
): GenerationCommit {
  const meta = metadataText === undefined ? initialMetadata() : metadataV2(metadataText, change.name);
  const info: ChangeInfo = {
    kind: meta.total_generations === 0 ? "import" : "edit",
    author: change.author,
    hostname: change.hostname,
    timestamp: change.timestamp,
    command: change.command,
  };
  const next = appendGeneration(meta, info);
  const n = next.total_generations;
  return {
    generation: n,
    initialize: metadataText === undefined,
    files: {
      "metadata.json": serialiseMetadata(next),
      [`${n}/env/manifest.toml`]: content.manifestToml,
      [`${n}/env/manifest.lock`]: content.lockText,
    },
    message: `Create generation ${n}`,
  };
}

/** The stored `metadata.json`, checked by the shared parser, as the writable v2 document. */
function metadataV2(text: string, name: string): MetadataJson {
  const source = `metadata.json of environment '${name}' on the hub`;
  const parsed = parseGenerationsMetadata(text, source);
  if (parsed.version !== 2) {
    throw new ImagelessError(
      "unsupported",
      `${source} is version ${parsed.version}: this imageless adds generations to version 2 only; open it once with a current Flox to migrate it`,
    );
  }
  // The shared parser accepted it, so these fields exist with these types; unknown fields are kept.
  const data = JSON.parse(text) as Record<string, unknown>;
  return {
    ...data,
    version: 2,
    total_generations: Number(data["total_generations"]),
    history: (data["history"] as Record<string, unknown>[]) ?? [],
  };
}

function serialiseMetadata(meta: MetadataJson): string {
  return `${JSON.stringify(meta, null, 2)}\n`;
}
