import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseBatch } from "./floxmeta-reader.js";

describe("parseBatch()", () => {
  it("parseBatch() splits blobs and marks missing paths", () => {
    const sha = "a".repeat(40);
    const out = Buffer.from(`${sha} blob 5\nhello\nabc:x missing\n${sha} blob 3\nä\n\n`);
    assert.deepEqual(parseBatch(out, 3), ["hello", undefined, "ä\n"]);
  });
  it("parseBatch() refuses output that ends early", () => {
    assert.throws(() => parseBatch(Buffer.from(""), 1), /ended early/);
  });
});
