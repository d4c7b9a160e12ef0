import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ImagelessError } from "../../errors/imageless-error.js";
import {
  expiryProblem,
  looksLikeJwt,
  signJwt,
  USER_TOKEN_SECONDS,
  userTokenClaims,
  verifyJwt,
} from "./jwt.js";

const secret = Buffer.alloc(32, 7);
const claims = userTokenClaims({
  userId: "acc_1",
  handle: "alice",
  tokenId: "tok_1",
  nowMs: 1_700_000_000_500,
});

describe("userTokenClaims()", () => {
  it("userTokenClaims() expires 30 days after issue, in seconds, with Flox's handle claim", () => {
    assert.deepEqual(claims, {
      sub: "acc_1",
      "https://flox.dev/handle": "alice",
      iat: 1_700_000_000,
      exp: 1_700_000_000 + USER_TOKEN_SECONDS,
      jti: "tok_1",
    });
  });
});

describe("verifyJwt()", () => {
  it("verifyJwt() returns what signJwt() signed", () => {
    const token = signJwt(claims, secret);
    assert.ok(looksLikeJwt(token));
    assert.deepEqual(verifyJwt(token, secret), claims);
  });
  const refusals: [string, string, RegExp][] = [
    ["another key", signJwt(claims, Buffer.alloc(32, 8)), /signature/],
    [
      "a changed payload",
      (() => {
        const [h, , s] = signJwt(claims, secret).split(".");
        const body = Buffer.from(JSON.stringify({ ...claims, sub: "acc_admin" })).toString("base64url");
        return `${h}.${body}.${s}`;
      })(),
      /signature/,
    ],
    [
      "alg none",
      `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.x`,
      /not an HS256/,
    ],
  ];
  for (const [name, token, message] of refusals) {
    it(`verifyJwt() refuses ${name}`, () => {
      assert.throws(
        () => verifyJwt(token, secret),
        (e: unknown) => e instanceof ImagelessError && e.kind === "unauthorized" && message.test(e.message),
      );
    });
  }
  it("verifyJwt() throws only unauthorized errors, never with the token in the message", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (a, b, c) => {
        const token = `${Buffer.from(a).toString("base64url")}.${Buffer.from(b).toString("base64url")}.${c}`;
        try {
          verifyJwt(token, secret);
        } catch (error) {
          assert.ok(error instanceof ImagelessError && error.kind === "unauthorized");
          assert.ok(token.length < 8 || !error.message.includes(token));
        }
      }),
    );
  });
});

describe("expiryProblem()", () => {
  it("expiryProblem() says when a token expired, and nothing before", () => {
    assert.equal(expiryProblem({ exp: 100 }, 99_999), undefined);
    assert.equal(
      expiryProblem({ exp: 100 }, 100_000),
      "token expired at 1970-01-01T00:01:40.000Z: create a new one (imageless auth login)",
    );
  });
});
