import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ImagelessError } from "../errors/imageless-error.js";
import { Secret } from "../log/secret.js";
import { assertTokenNotExpired, jwtExpiry } from "./jwt.js";

/** An unsigned JWT with the given claims (the runtime never verifies signatures; the hub does). */
function jwt(claims: object): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "HS256", typ: "JWT" })}.${part(claims)}.c2lnbmF0dXJl`;
}

describe("jwtExpiry()", () => {
  const cases: ReadonlyArray<readonly [string, string, number | undefined]> = [
    ["a JWT with exp", jwt({ sub: "u", exp: 1_700_000_000 }), 1_700_000_000_000],
    ["a JWT without exp", jwt({ sub: "u" }), undefined],
    ["a JWT with a string exp", jwt({ exp: "1700000000" }), undefined],
    ["an opaque token", "flox_0123456789abcdef", undefined],
    ["two parts", "abc.def", undefined],
    ["a payload that is not JSON", "a.bm90IGpzb24.c", undefined],
    ["a payload that is JSON but not an object", `a.${Buffer.from("42").toString("base64url")}.c`, undefined],
  ];
  for (const [label, token, expected] of cases) {
    it(`reads ${label} as ${String(expected)}`, () => assert.equal(jwtExpiry(token), expected));
  }
  it("never throws, whatever the text", () => {
    fc.assert(fc.property(fc.string(), (text) => jwtExpiry(text) === undefined || true));
  });
});

describe("assertTokenNotExpired()", () => {
  const now = Date.parse("2026-01-02T00:00:00Z");
  it("accepts a JWT that expires later, and an opaque token", () => {
    assertTokenNotExpired(new Secret(jwt({ exp: now / 1000 + 60 })), now, "x");
    assertTokenNotExpired(new Secret("opaque"), now, "x");
  });
  it("fails an expired JWT with kind unauthorized, when it expired and what to do, never the token", () => {
    const token = jwt({ exp: now / 1000 - 3600 });
    assert.throws(
      () => assertTokenNotExpired(new Secret(token), now, "the pod's secret floxhub-token"),
      (error: unknown) => {
        assert.ok(error instanceof ImagelessError);
        assert.equal(error.kind, "unauthorized");
        assert.match(
          error.message,
          /^the FloxHub token from the pod's secret floxhub-token expired at 2026-01-01T23:00:00\.000Z: /,
        );
        assert.match(error.message, /flox auth token \| kubectl create secret generic floxhub-token/);
        assert.ok(!error.message.includes(token));
        return true;
      },
    );
  });
  it("treats exp equal to now as expired", () => {
    assert.throws(
      () => assertTokenNotExpired(new Secret(jwt({ exp: now / 1000 })), now, "x"),
      ImagelessError,
    );
  });
});
