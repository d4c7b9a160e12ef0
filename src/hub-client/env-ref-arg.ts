import { ImagelessError } from "../errors/imageless-error.js";
import { parseEnvironmentRef, parseGeneration } from "../names/environment-names.js";
import type { EnvRef } from "./api-client.js";

/**
 * Parses `-r owner/name` (pure).
 *
 * @throws {ImagelessError} `invalid-input` naming the value and the accepted form.
 * @example
 * parseEnvRefArg("acme/web"); // { owner: "acme", name: "web" }
 */
export function parseEnvRefArg(value: string): EnvRef {
  const { owner, name } = parseEnvironmentRef(value, "-r", { generation: false });
  return { owner, name };
}

/**
 * Parses a generation number argument (pure).
 *
 * @throws {ImagelessError} `invalid-input` for anything but an integer ≥ 1.
 */
export function parseGenerationArg(value: string, what = "generation"): number {
  return parseGeneration(value, what);
}

/**
 * Parses a visibility argument (pure).
 *
 * @throws {ImagelessError} `invalid-input` for anything but `public` or `private`.
 */
export function parseVisibilityArg(value: string): "public" | "private" {
  if (value === "public" || value === "private") return value;
  throw new ImagelessError(
    "invalid-input",
    `visibility "${value}" is not accepted: accepted values are "public" and "private"`,
  );
}
