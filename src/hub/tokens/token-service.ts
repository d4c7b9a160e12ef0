import { ImagelessError } from "../../errors/imageless-error.js";
import { Secret } from "../../log/secret.js";
import type { Principal } from "../access.js";
import type { AccountRecord, HubStore } from "../db/hub-store.js";
import {
  expiryProblem,
  looksLikeJwt,
  signJwt,
  type UserTokenClaims,
  userTokenClaims,
  verifyJwt,
} from "./jwt.js";
import { hashToken, isMachineToken, newMachineToken, newTokenId } from "./token-text.js";

/** An authenticated caller: a {@link Principal} plus the account the token belongs to. */
export interface Caller extends Principal {
  /** The user's account id, or the organisation's for a machine token. */
  readonly accountId: string;
  /** The token's id (never its text). */
  readonly tokenId: string;
}

/** A token just issued: shown once, stored only as its hash. */
export interface IssuedToken {
  readonly id: string;
  readonly token: Secret;
  /** Unix milliseconds; absent for machine tokens (valid until revoked). */
  readonly expiresAt?: number;
}

/** Issues and checks hub tokens. */
export interface TokenService {
  issueUserToken(user: AccountRecord, description?: string): Promise<IssuedToken>;
  issueMachineToken(org: AccountRecord, description?: string): Promise<IssuedToken>;
  /**
   * The caller a token belongs to. Asks the store for the hash on every call (the hub's memoizing
   * store forgets on every write), so a revocation holds from the next request on.
   *
   * @throws {ImagelessError} `unauthorized` for an unknown, revoked, expired or forged token; the
   *   message says which (and when, for expiry or revocation) and never contains the token.
   */
  authenticate(token: Secret): Promise<Caller>;
}

/**
 * The token service over the store, the hub's HS256 key and a clock (Unix ms).
 *
 * @example
 * const tokens = createTokenService({ store, secret: await loadOrCreateJwtSecret(dataDir), now: Date.now });
 */
export function createTokenService(deps: {
  store: HubStore;
  secret: Buffer;
  now: () => number;
}): TokenService {
  const { store, secret, now } = deps;
  // A JWT's signature is checked once per token text: the claims of a text that verified never change
  // (expiry is still checked against the clock on every request, revocation in the store). Keyed by
  // the token's hash, which the store lookup needs anyway; bounded, dropped whole when full.
  const verified = new Map<string, UserTokenClaims>();
  const claimsOf = (text: string, hash: string): UserTokenClaims => {
    let claims = verified.get(hash);
    if (claims === undefined) {
      claims = verifyJwt(text, secret);
      if (verified.size >= 10_000) verified.clear();
      verified.set(hash, claims);
    }
    return claims;
  };
  return {
    async issueUserToken(user, description) {
      const id = newTokenId();
      const claims = userTokenClaims({ userId: user.id, handle: user.handle, tokenId: id, nowMs: now() });
      const text = signJwt(claims, secret);
      const expiresAt = claims.exp * 1000;
      await store.insertToken({
        id,
        hash: hashToken(text),
        kind: "user",
        accountId: user.id,
        ...(description === undefined ? {} : { description }),
        createdAt: claims.iat * 1000,
        expiresAt,
      });
      return { id, token: new Secret(text), expiresAt };
    },

    async issueMachineToken(org, description) {
      const id = newTokenId();
      const text = newMachineToken();
      await store.insertToken({
        id,
        hash: hashToken(text),
        kind: "machine",
        accountId: org.id,
        ...(description === undefined ? {} : { description }),
        createdAt: now(),
      });
      return { id, token: new Secret(text) };
    },

    async authenticate(token) {
      const text = token.reveal();
      const hash = hashToken(text);
      let userId: string | undefined;
      if (looksLikeJwt(text)) {
        const claims = claimsOf(text, hash);
        const expired = expiryProblem(claims, now());
        if (expired !== undefined) throw new ImagelessError("unauthorized", expired);
        userId = claims.sub;
      } else if (!isMachineToken(text)) {
        throw new ImagelessError(
          "unauthorized",
          "token is not valid: it is neither a hub user token nor a flox_mt_ machine token",
        );
      }
      const record = await store.tokenByHash(hash);
      if (record === undefined || (userId !== undefined && record.accountId !== userId)) {
        throw new ImagelessError("unauthorized", "token is not known to this hub");
      }
      if (record.revokedAt !== undefined) {
        throw new ImagelessError(
          "unauthorized",
          `token ${record.id} was revoked at ${new Date(record.revokedAt).toISOString()}`,
        );
      }
      const account = await store.accountById(record.accountId);
      if (account === undefined)
        throw new ImagelessError("unauthorized", `token ${record.id} belongs to no account`);
      return {
        kind: record.kind === "machine" ? "org-token" : "user",
        name: account.handle,
        admin: record.kind === "user" && account.admin,
        accountId: account.id,
        tokenId: record.id,
      };
    },
  };
}
