/**
 * Owner and environment names, and references to environments (`owner/name[:N]`): the one rule the pod
 * policy, the node's resolver and git URLs, the CLI and the hub all use, so no part accepts a name
 * another part then refuses.
 *
 * - An owner (a user handle or an organisation name) is a path segment of the git URL
 *   (`<git-base>/<owner>/floxmeta`) and a directory of the hub: 1 to 39 of a-z, 0-9, "_", "." and "-",
 *   starting with a letter or digit, no "..". Lowercase only, so one owner never has two spellings.
 * - An environment name is a branch of that repository: 1 to 100 of A-Z, a-z, 0-9, ".", "_" and "-",
 *   starting with a letter, digit or "_", no "..", not ending in ".lock" (git refuses both in a ref).
 * - A generation is a decimal number ≥ 1 without leading zeros, at most 9 digits.
 */
import { ImagelessError } from "../errors/imageless-error.js";

/** A reference to a FloxHub environment: `owner/name` or `owner/name:N`. */
export interface EnvironmentRef {
  readonly owner: string;
  readonly name: string;
  /** Exactly this generation; absent means the hub's live generation at container start. */
  readonly generation?: number;
}

const OWNER = /^[a-z0-9][a-z0-9_.-]{0,38}$/;
const ENVIRONMENT_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;
const GENERATION = /^[1-9][0-9]{0,8}$/;

/** What an owner may be, in words, for error messages. */
export const OWNER_RULE = `1 to 39 of a-z, 0-9, "_", "." and "-", starting with a letter or digit`;
/** What an environment name may be, in words, for error messages. */
export const ENVIRONMENT_NAME_RULE = `1 to 100 of A-Z, a-z, 0-9, ".", "_" and "-", starting with a letter, digit or "_", without ".." or a ".lock" ending`;
/** What a generation may be, in words, for error messages. */
export const GENERATION_RULE = "a generation number ≥ 1";

/** True when `value` is an owner as the rule above says (pure). */
export function isOwner(value: string): boolean {
  return OWNER.test(value) && !value.includes("..");
}

/** True when `value` is an environment name as the rule above says (pure). */
export function isEnvironmentName(value: string): boolean {
  return ENVIRONMENT_NAME.test(value) && !value.includes("..") && !value.endsWith(".lock");
}

/**
 * An owner from input (pure).
 *
 * @param input names the input in the error, e.g. `handle`, `organisation name`, `environment owner`.
 * @throws {ImagelessError} `invalid-input`: `<input> "<value>" is not accepted: use <rule>`.
 */
export function parseOwner(value: unknown, input: string): string {
  if (typeof value === "string" && isOwner(value)) return value;
  throw notAccepted(input, value, `use ${OWNER_RULE}`);
}

/**
 * An environment name from input (pure).
 *
 * @throws {ImagelessError} `invalid-input`: `<input> "<value>" is not accepted: use <rule>`.
 */
export function parseEnvironmentName(value: unknown, input: string): string {
  if (typeof value === "string" && isEnvironmentName(value)) return value;
  throw notAccepted(input, value, `use ${ENVIRONMENT_NAME_RULE}`);
}

/**
 * A generation number from input (pure); surrounding spaces are ignored.
 *
 * @throws {ImagelessError} `invalid-input` for anything but a decimal number ≥ 1.
 */
export function parseGeneration(value: string, input: string): number {
  const trimmed = value.trim();
  if (GENERATION.test(trimmed)) return Number(trimmed);
  throw notAccepted(input, value, `give ${GENERATION_RULE}`);
}

/** Options of {@link parseEnvironmentRef}. */
export interface ParseRefOptions {
  /** Whether `:N` may follow the name (pods: yes; `-r` of the CLI: no). */
  readonly generation: boolean;
}

/**
 * `owner/name` or (when allowed) `owner/name:N`, surrounding spaces ignored (pure). The error names the
 * input, the whole value, which part is wrong and what is accepted.
 *
 * @throws {ImagelessError} `invalid-input`.
 * @example
 * parseEnvironmentRef("acme/web:3", "annotation flox.dev/environment", { generation: true });
 * // { owner: "acme", name: "web", generation: 3 }
 */
export function parseEnvironmentRef(value: string, input: string, options: ParseRefOptions): EnvironmentRef {
  const accepted = options.generation
    ? `"owner/name" or "owner/name:N" with N ${GENERATION_RULE}`
    : `"owner/name"`;
  const bad = (why: string): ImagelessError =>
    new ImagelessError(
      "invalid-input",
      `${input}: cannot use ${JSON.stringify(value)}: ${why}; accepted: ${accepted}, owner ${OWNER_RULE}, name ${ENVIRONMENT_NAME_RULE}`,
    );
  const trimmed = value.trim();
  const slash = trimmed.indexOf("/");
  if (slash < 0) throw bad('no "/" between owner and name');
  const owner = trimmed.slice(0, slash);
  const rest = trimmed.slice(slash + 1);
  const colon = options.generation ? rest.indexOf(":") : -1;
  const name = colon < 0 ? rest : rest.slice(0, colon);
  if (!isOwner(owner)) throw bad(`owner ${JSON.stringify(owner)} is not an owner name`);
  if (!isEnvironmentName(name)) throw bad(`name ${JSON.stringify(name)} is not an environment name`);
  if (colon < 0) return { owner, name };
  const generation = rest.slice(colon + 1);
  if (!GENERATION.test(generation)) throw bad(`generation ${JSON.stringify(generation)} is not a number ≥ 1`);
  return { owner, name, generation: Number(generation) };
}

/** `owner/name` or `owner/name:N`, the form used in annotations, logs and messages (pure). */
export function formatEnvironmentRef(ref: EnvironmentRef): string {
  return ref.generation === undefined
    ? `${ref.owner}/${ref.name}`
    : `${ref.owner}/${ref.name}:${ref.generation}`;
}

function notAccepted(input: string, value: unknown, rule: string): ImagelessError {
  return new ImagelessError(
    "invalid-input",
    `${input} ${JSON.stringify(value ?? null)} is not accepted: ${rule}`,
  );
}
