import { createHmac, timingSafeEqual } from "node:crypto";
import { ImagelessError } from "../../errors/imageless-error.js";

/** The claims of a hub user token, as Flox's tokens carry them (`https://flox.dev/handle`). */
export interface UserTokenClaims {
  /** The user's account id. */
  readonly sub: string;
  readonly "https://flox.dev/handle": string;
  /** Unix seconds. */
  readonly iat: number;
  /** Unix seconds. */
  readonly exp: number;
  /** The token's id in the hub's database. */
  readonly jti: string;
}

/** User tokens last 30 days, like FloxHub's. */
export const USER_TOKEN_SECONDS = 30 * 24 * 60 * 60;

/**
 * The claims of a new user token (pure).
 *
 * @example
 * userTokenClaims({ userId: "acc_1", handle: "alice", tokenId: "tok_1", nowMs: Date.now() }).exp;
 */
export function userTokenClaims(opts: {
  userId: string;
  handle: string;
  tokenId: string;
  nowMs: number;
}): UserTokenClaims {
  const iat = Math.floor(opts.nowMs / 1000);
  return {
    sub: opts.userId,
    "https://flox.dev/handle": opts.handle,
    iat,
    exp: iat + USER_TOKEN_SECONDS,
    jti: opts.tokenId,
  };
}

/** A compact JWT signed with HS256 (pure: same input, same token). */
export function signJwt(claims: UserTokenClaims, secret: Buffer): string {
  const head = base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const body = base64url(JSON.stringify(claims));
  return `${head}.${body}.${hmac(`${head}.${body}`, secret)}`;
}

/** True when `token` has the shape of a compact JWT (three base64url parts). */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);
}

/**
 * The claims of a JWT this hub signed, checking algorithm and signature (not expiry: see
 * {@link expiryProblem}, so an expired token can be reported as such).
 *
 * @throws {ImagelessError} `unauthorized` for another algorithm, a bad signature or missing claims.
 */
export function verifyJwt(token: string, secret: Buffer): UserTokenClaims {
  const [head = "", body = "", signature = ""] = token.split(".");
  const header = decodePart(head);
  if (header?.["alg"] !== "HS256") throw invalid("it is not an HS256 token of this hub");
  const expected = Buffer.from(hmac(`${head}.${body}`, secret));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    throw invalid("its signature does not match this hub's key");
  }
  const c = decodePart(body);
  const sub = c?.["sub"];
  const handle = c?.["https://flox.dev/handle"];
  const iat = c?.["iat"];
  const exp = c?.["exp"];
  const jti = c?.["jti"];
  if (
    typeof sub !== "string" ||
    typeof handle !== "string" ||
    typeof iat !== "number" ||
    typeof exp !== "number" ||
    typeof jti !== "string"
  ) {
    throw invalid("it lacks the claims sub, https://flox.dev/handle, iat, exp or jti");
  }
  return { sub, "https://flox.dev/handle": handle, iat, exp, jti };
}

/** The message for an expired token (pure), or undefined while it is valid. */
export function expiryProblem(claims: Pick<UserTokenClaims, "exp">, nowMs: number): string | undefined {
  if (claims.exp * 1000 > nowMs) return undefined;
  return `token expired at ${new Date(claims.exp * 1000).toISOString()}: create a new one (imageless auth login)`;
}

function invalid(reason: string): ImagelessError {
  return new ImagelessError("unauthorized", `token is not valid: ${reason}`);
}

function decodePart(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function base64url(text: string): string {
  return Buffer.from(text, "utf8").toString("base64url");
}

function hmac(data: string, secret: Buffer): string {
  return createHmac("sha256", secret).update(data).digest("base64url");
}
