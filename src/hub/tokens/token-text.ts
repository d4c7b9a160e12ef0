import { createHash, randomBytes } from "node:crypto";

/** Organisation machine tokens: `flox_mt_` and 43 base64url characters (32 random bytes). */
export const MACHINE_TOKEN_PREFIX = "flox_mt_";

/** A new machine token's text. */
export function newMachineToken(): string {
  return `${MACHINE_TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`;
}

/** True when `token` has the machine token's shape. */
export function isMachineToken(token: string): boolean {
  return /^flox_mt_[A-Za-z0-9_-]{43}$/.test(token);
}

/** A new token id (`tok_…`); ids are not secret: they name tokens in lists and messages. */
export function newTokenId(): string {
  return `tok_${randomBytes(12).toString("base64url")}`;
}

/** The lowercase hex SHA-256 of a token: the only form of a token the database holds. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}
