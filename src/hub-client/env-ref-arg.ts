import { ImagelessError } from "../errors/imageless-error.js";
import type { EnvRef } from "./api-client.js";

const PART = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Parses `-r owner/name` (pure).
 *
 * @throws {ImagelessError} `invalid-input` naming the value and the accepted form.
 * @example
 * parseEnvRefArg("acme/web"); // { owner: "acme", name: "web" }
 */
export function parseEnvRefArg(value: string): EnvRef {
  const parts = value.split("/");
  const [owner, name] = parts;
  if (
    parts.length !== 2 ||
    owner === undefined ||
    name === undefined ||
    !PART.test(owner) ||
    !PART.test(name) ||
    name.endsWith(".lock") ||
    name.includes("..")
  ) {
    throw new ImagelessError(
      "invalid-input",
      `-r "${value}" is not accepted: give owner/name, each letters, digits, ".", "_" and "-"`,
    );
  }
  return { owner, name };
}

/**
 * Parses a generation number argument (pure).
 *
 * @throws {ImagelessError} `invalid-input` for anything but an integer ≥ 1.
 */
export function parseGenerationArg(value: string, what = "generation"): number {
  if (/^[1-9][0-9]{0,8}$/.test(value.trim())) return Number(value.trim());
  throw new ImagelessError(
    "invalid-input",
    `${what} "${value}" is not accepted: give a generation number ≥ 1`,
  );
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
