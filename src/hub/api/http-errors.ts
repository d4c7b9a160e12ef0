import type { ErrorKind } from "../../errors/imageless-error.js";
import { ImagelessError } from "../../errors/imageless-error.js";
import { ForbiddenError } from "../accounts/forbidden-error.js";
import { TooLargeError } from "../hub-limits.js";

/** HTTP status per error kind: the one place the API maps kinds to statuses. */
const STATUS: Record<ErrorKind, number> = {
  "invalid-input": 400,
  unsupported: 400,
  unauthorized: 401,
  "not-found": 404,
  "failed-precondition": 409,
  unavailable: 503,
  internal: 500,
};

/**
 * The status and one-line `{ error }` body for an error a route threw (pure). Fastify's own 4xx
 * errors (bad JSON, wrong content type, body too large) keep their status; anything unexpected is
 * a 500 whose text does not leak internals.
 *
 * @example
 * errorReply(new ImagelessError("not-found", 'environment "acme/web" does not exist'));
 * // { status: 404, body: { error: 'environment "acme/web" does not exist' } }
 */
export function errorReply(error: unknown): { status: number; body: { error: string } } {
  if (error instanceof ForbiddenError) return { status: 403, body: { error: error.message } };
  if (error instanceof TooLargeError) return { status: 413, body: { error: error.message } };
  if (error instanceof ImagelessError) {
    const status = STATUS[error.kind];
    return { status, body: { error: status === 500 ? `internal error: ${error.message}` : error.message } };
  }
  const statusCode = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof statusCode === "number" && statusCode >= 400 && statusCode < 500) {
    const message = error instanceof Error ? firstLine(error.message) : "bad request";
    return { status: statusCode, body: { error: `request not accepted: ${message}` } };
  }
  return { status: 500, body: { error: "internal error: see the hub's log" } };
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? "";
}
