import { ImagelessError } from "../errors/imageless-error.js";
import type { Secret } from "../log/secret.js";

/** How a user replaces an expired or refused token (SPEC §2 "Authentication"). */
export const TOKEN_RENEWAL_HINT =
  "create a new one and update the secret: flox auth token | kubectl create secret generic floxhub-token --from-file=floxhub-token=/dev/stdin --dry-run=client -o yaml | kubectl apply -f -";

/**
 * The `exp` claim of a JWT as epoch milliseconds, or undefined when the token is not a JWT or has no
 * numeric `exp` (opaque tokens are the hub's to judge). Pure; never throws.
 *
 * @example
 * jwtExpiry("eyJhbGciOiJub25lIn0.eyJleHAiOjE3MDAwMDAwMDB9.sig"); // 1_700_000_000_000
 */
export function jwtExpiry(token: string): number | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  const payload = parts[1] ?? "";
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(payload)) return undefined;
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof claims !== "object" || claims === null || !("exp" in claims)) return undefined;
  const exp = claims.exp;
  return typeof exp === "number" && Number.isFinite(exp) ? exp * 1000 : undefined;
}

/**
 * Fails fast, before any hub request, when `token` is a JWT whose `exp` is not after `now`. Pure.
 *
 * @param origin where the token came from, named in the message (never the token itself)
 * @throws {ImagelessError} `unauthorized` saying the token expired, when, and what to do.
 * @example
 * assertTokenNotExpired(token, Date.now(), "the pod's secret floxhub-token");
 */
export function assertTokenNotExpired(token: Secret, now: number, origin: string): void {
  const expiry = jwtExpiry(token.reveal());
  if (expiry === undefined || expiry > now) return;
  throw new ImagelessError(
    "unauthorized",
    `the FloxHub token from ${origin} expired at ${new Date(expiry).toISOString()}: ${TOKEN_RENEWAL_HINT}`,
  );
}
