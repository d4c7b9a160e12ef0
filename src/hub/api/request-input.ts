import { ImagelessError } from "../../errors/imageless-error.js";
import type { Visibility } from "../access.js";

/**
 * A JSON request body as an object (pure); a missing body is an empty object, so POSTs without
 * fields (`/rollback`, `/tokens`) need none.
 *
 * @throws {ImagelessError} `invalid-input` for any other JSON value.
 */
export function bodyObject(body: unknown): Readonly<Record<string, unknown>> {
  if (body === undefined || body === null || body === "") return {};
  if (typeof body === "object" && !Array.isArray(body)) return body as Record<string, unknown>;
  throw new ImagelessError("invalid-input", "request body must be a JSON object");
}

/** An optional token description: up to 200 characters on one line (pure). */
export function optionalDescription(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string" && value.length <= 200 && !/[\r\n]/.test(value)) return value;
  throw new ImagelessError("invalid-input", "description must be text of at most 200 characters on one line");
}

/** An optional boolean field (pure). */
export function optionalBoolean(value: unknown, what: string): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value === "boolean") return value;
  throw new ImagelessError("invalid-input", `${what} must be true or false, not ${JSON.stringify(value)}`);
}

/**
 * A generation number from a body field or query parameter (pure).
 *
 * @throws {ImagelessError} `invalid-input` naming the value.
 */
export function parseGeneration(value: unknown, what: string): number {
  const n = typeof value === "string" && /^[0-9]{1,9}$/.test(value) ? Number(value) : value;
  if (typeof n === "number" && Number.isSafeInteger(n) && n >= 1) return n;
  throw new ImagelessError(
    "invalid-input",
    `${what} ${JSON.stringify(value ?? null)} is not accepted: use a generation number ≥ 1`,
  );
}

/** A visibility from input (pure). @throws {ImagelessError} `invalid-input` naming the accepted values. */
export function parseVisibility(value: unknown, what: string): Visibility {
  if (value === "public" || value === "private") return value;
  throw new ImagelessError(
    "invalid-input",
    `${what} ${JSON.stringify(value ?? null)} is not accepted: use "public" or "private"`,
  );
}
