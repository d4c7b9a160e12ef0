import { ImagelessError } from "../../errors/imageless-error.js";

/** Handles of users and names of organisations share one namespace: they are git owner names. */
export const HANDLE_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,38}$/;

/**
 * A user handle or organisation name from input (pure).
 *
 * @param what names the input in the error, e.g. `handle` or `organisation name`.
 * @throws {ImagelessError} `invalid-input` naming the value and the accepted form.
 * @example
 * parseHandle("alice", "handle"); // "alice"
 */
export function parseHandle(value: unknown, what: string): string {
  if (typeof value === "string" && HANDLE_PATTERN.test(value) && !value.includes("..")) return value;
  throw new ImagelessError(
    "invalid-input",
    `${what} ${JSON.stringify(value ?? null)} is not accepted: use 1 to 39 of a-z, 0-9, "_", "." and "-", starting with a letter or digit`,
  );
}
