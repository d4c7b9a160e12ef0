import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isErrorKind } from "../errors/imageless-error.js";
import { parseBatchOutput, parseBatchRecord, parseTree } from "./batch-output.js";

const A = "a".repeat(40);
const B = "b".repeat(40);

describe("parseBatchOutput()", () => {
  it("cuts a stream of several answers by size, never by newline: text, missing, empty, binary, info", () => {
    const binary = Buffer.from([0x00, 0x0a, 0xff, 0x0a, 0x0a]);
    const output = Buffer.concat([
      Buffer.from(`${A} blob 12\nline1\nline2\n\n`),
      Buffer.from(`${B}:no such/path missing\n`),
      Buffer.from(`${A} blob 0\n\n`),
      Buffer.from(`${B} blob 5\n`),
      binary,
      Buffer.from("\n"),
      Buffer.from(`${B} commit 230\n`),
      Buffer.from("HEAD:x ambiguous\n"),
    ]);
    const records = parseBatchOutput(output, [
      "contents",
      "contents",
      "contents",
      "contents",
      "info",
      "info",
    ]);
    assert.deepEqual(records, [
      { kind: "object", id: A, type: "blob", size: 12, content: Buffer.from("line1\nline2\n") },
      { kind: "missing", name: `${B}:no such/path` },
      { kind: "object", id: A, type: "blob", size: 0, content: Buffer.alloc(0) },
      { kind: "object", id: B, type: "blob", size: 5, content: binary },
      { kind: "object", id: B, type: "commit", size: 230 },
      { kind: "ambiguous", name: "HEAD:x" },
    ]);
  });

  it("refuses output that ends before the last record, or has bytes after it", () => {
    assert.throws(
      () => parseBatchOutput(Buffer.from(`${A} blob 5\nhel`), ["contents"]),
      (e) => isErrorKind(e, "internal") && e.message === "git cat-file: output ended after 0 of 1 records",
    );
    assert.throws(
      () => parseBatchOutput(Buffer.from(`${A} blob 2\nhi\nextra`), ["contents"]),
      (e) => isErrorKind(e, "internal") && e.message === "git cat-file: 5 bytes after the last record",
    );
  });

  it("refuses a line git never writes", () => {
    assert.throws(
      () => parseBatchOutput(Buffer.from("fatal: oops\n"), ["contents"]),
      (e) => isErrorKind(e, "internal") && e.message === 'git cat-file: unexpected output line "fatal: oops"',
    );
  });
});

describe("parseBatchRecord()", () => {
  it("waits (undefined) until a record's content and its closing newline have all arrived", () => {
    const whole = Buffer.from(`${A} blob 3\nabc\n`);
    for (let cut = 0; cut < whole.length; cut++) {
      assert.equal(parseBatchRecord(whole.subarray(0, cut), 0, "contents"), undefined, `cut at ${cut}`);
    }
    assert.deepEqual(parseBatchRecord(whole, 0, "contents"), {
      record: { kind: "object", id: A, type: "blob", size: 3, content: Buffer.from("abc") },
      next: whole.length,
    });
  });
});

describe("parseTree()", () => {
  it("lists a raw tree's entries with their kinds and hex ids", () => {
    const id = (hex: string) => Buffer.from(hex, "hex");
    const raw = Buffer.concat([
      Buffer.from("40000 1\0"),
      id(A),
      Buffer.from("100644 metadata.json\0"),
      id(B),
      Buffer.from("160000 sub\0"),
      id(A),
    ]);
    assert.deepEqual(parseTree(raw, 20), [
      { mode: "40000", type: "tree", name: "1", id: A },
      { mode: "100644", type: "blob", name: "metadata.json", id: B },
      { mode: "160000", type: "commit", name: "sub", id: A },
    ]);
    assert.throws(() => parseTree(raw.subarray(0, raw.length - 1), 20), /malformed entry at byte 69/);
  });
});
