import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseHandle } from "./handle.js";
import { parseRole } from "./role.js";

describe("parseHandle()", () => {
  for (const value of ["alice", "a", "acme-corp", "x_1.y", "a".repeat(39)]) {
    it(`parseHandle() accepts ${value}`, () => assert.equal(parseHandle(value, "handle"), value));
  }
  for (const value of ["", "Alice", "-a", "a".repeat(40), "a..b", "a/b", null]) {
    it(`parseHandle() refuses ${JSON.stringify(value)}`, () =>
      assert.throws(() => parseHandle(value, "handle"), /^ImagelessError: handle .* is not accepted/));
  }
});

describe("parseRole()", () => {
  it("parseRole() accepts the three roles and names them otherwise", () => {
    assert.equal(parseRole("reader"), "reader");
    assert.throws(
      () => parseRole("admin"),
      /role "admin" is not accepted: use "owner", "writer" or "reader"/,
    );
  });
});
