import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { splitBatch } from "./locked-paths.js";

describe("splitBatch()", () => {
  it("splitBatch() cuts git cat-file --batch output into blobs, by size not by newline", () => {
    const output = Buffer.from(
      `${"a".repeat(40)} blob 6\nx\ny\nz\n\n` +
        `${"b".repeat(40)}:1/env/manifest.lock missing\n` +
        `${"c".repeat(40)} blob 0\n\n`,
    );
    assert.deepEqual(splitBatch(output), ["x\ny\nz\n", "", ""]);
  });
  it("splitBatch() keeps multi-byte characters whole", () => {
    const text = "é€";
    const output = Buffer.concat([
      Buffer.from(`${"a".repeat(40)} blob ${Buffer.byteLength(text)}\n`),
      Buffer.from(`${text}\n`),
    ]);
    assert.deepEqual(splitBatch(output), [text]);
  });
});
