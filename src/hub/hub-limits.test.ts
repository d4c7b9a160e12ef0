import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ImagelessError } from "../errors/imageless-error.js";
import { formatBytes, parseByteSize, parseDurationMs, TooLargeError, tooLarge } from "./hub-limits.js";

describe("parseByteSize()", () => {
  const cases: [string, number][] = [
    ["512", 512],
    ["64KiB", 65536],
    ["64kb", 65536],
    ["8M", 8 * 1024 * 1024],
    ["1.5GiB", 1.5 * 1024 ** 3],
    [" 2 TiB ", 2 * 1024 ** 4],
  ];
  for (const [text, bytes] of cases)
    it(`parseByteSize() reads ${JSON.stringify(text)}`, () =>
      assert.equal(parseByteSize(text, "--max-nar"), bytes));
  for (const text of ["", "0", "-1", "8 parsecs", "1e9", "KiB"]) {
    it(`parseByteSize() refuses ${JSON.stringify(text)} naming the option`, () => {
      assert.throws(() => parseByteSize(text, "--max-nar"), {
        name: "ImagelessError",
        message: `--max-nar ${JSON.stringify(text)} is not accepted: use a size ≥ 1 byte such as 512, 64KiB, 8MiB or 4GiB`,
      });
    });
  }
});

describe("parseDurationMs()", () => {
  it("parseDurationMs() reads s, m, h and d and refuses anything else", () => {
    assert.deepEqual(
      ["90s", "30m", "24h", "7d", "0s"].map((t) => parseDurationMs(t, "--grace")),
      [90_000, 1_800_000, 86_400_000, 604_800_000, 0],
    );
    assert.throws(() => parseDurationMs("soon", "--grace"), ImagelessError);
  });
});

describe("tooLarge()", () => {
  it("tooLarge() names the input, its size, the limit and the flag that raises it", () => {
    const error = tooLarge("metadata.json", 150 * 1024 * 1024, 8 * 1024 * 1024, "--max-blob");
    assert.ok(error instanceof TooLargeError);
    assert.equal(error.kind, "invalid-input");
    assert.equal(
      error.message,
      "metadata.json is 150.0 MiB, over the hub's limit of 8.0 MiB (hub serve --max-blob)",
    );
    assert.equal(
      tooLarge("a narinfo", undefined, 65536).message,
      "a narinfo is larger than the hub's limit of 64.0 KiB",
    );
    assert.equal(formatBytes(1), "1 bytes");
  });
});
