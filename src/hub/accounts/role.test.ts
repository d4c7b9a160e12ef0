import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseRole } from "./role.js";

describe("parseRole()", () => {
  it("parseRole() accepts the three roles and names them otherwise", () => {
    assert.equal(parseRole("reader"), "reader");
    assert.throws(
      () => parseRole("admin"),
      /role "admin" is not accepted: use "owner", "writer" or "reader"/,
    );
  });
});
