import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { numbered } from "./postgres-driver.js";

describe("numbered()", () => {
  it("numbered() turns ? placeholders into $1, $2 … in order", () => {
    assert.equal(
      numbered("UPDATE t SET a = ? WHERE b = ? AND c = ?"),
      "UPDATE t SET a = $1 WHERE b = $2 AND c = $3",
    );
    assert.equal(numbered("SELECT 1"), "SELECT 1");
  });
});
