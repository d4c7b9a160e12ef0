import { ImagelessError } from "../../errors/imageless-error.js";
import { ForbiddenError } from "../accounts/forbidden-error.js";
import type { Caller } from "../tokens/token-service.js";

/**
 * The caller, who must have sent a token (pure).
 *
 * @throws {ImagelessError} `unauthorized` (401) for an anonymous request.
 */
export function requireCaller(caller: Caller | undefined): Caller {
  if (caller !== undefined) return caller;
  throw requireCallerError();
}

/**
 * The caller, who must be a user (not an organisation's machine token) (pure).
 *
 * @throws {ImagelessError} 401 when anonymous; {@link ForbiddenError} for a machine token.
 */
export function requireUser(caller: Caller | undefined, action: string): Caller {
  const c = requireCaller(caller);
  if (c.kind === "user") return c;
  throw new ForbiddenError(`a machine token of "${c.name}" cannot ${action}: use a user token`);
}

/** The caller, who must be a hub admin (pure). @throws like {@link requireUser}, 403 for non-admins. */
export function requireAdmin(caller: Caller | undefined, action: string): Caller {
  const c = requireUser(caller, action);
  if (c.admin) return c;
  throw new ForbiddenError(`"${c.name}" cannot ${action}: only hub admins can`);
}

/**
 * The error for a caller not allowed to do something (pure): 401 asking for a token when anonymous,
 * else a {@link ForbiddenError} (403) with `reason(name)`.
 *
 * @example
 * throw refusal(caller, (name) => `"${name}" cannot change "acme/web": it needs the writer role`);
 */
export function refusal(caller: Caller | undefined, reason: (name: string) => string): ImagelessError {
  if (caller === undefined) return requireCallerError();
  return new ForbiddenError(reason(caller.name));
}

function requireCallerError(): ImagelessError {
  return new ImagelessError("unauthorized", "this needs a token: send Authorization: Bearer <token>");
}
