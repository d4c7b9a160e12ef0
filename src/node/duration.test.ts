import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ImagelessError } from "../errors/imageless-error.js";
import { parseDuration } from "./duration.js";

describe("parseDuration()", () => {
  const good: ReadonlyArray<readonly [string, number]> = [
    ["24h", 86_400_000],
    ["72h", 259_200_000],
    ["30m", 1_800_000],
    ["90s", 90_000],
    ["1h30m", 5_400_000],
    ["2d", 172_800_000],
    ["500ms", 500],
    ["1m500ms", 60_500],
    ["0s", 0],
  ];
  for (const [text, ms] of good) {
    it(`reads ${JSON.stringify(text)} as ${ms} ms`, () => {
      assert.equal(parseDuration(text, "k"), ms);
    });
  }

  const bad = [
    "",
    "24",
    "h",
    "1.5h",
    "-1h",
    "1h 30m",
    " 1h",
    "1H",
    "1y",
    "1h30",
    "abc",
    "99999999999999999999d",
  ];
  for (const text of bad) {
    it(`rejects ${JSON.stringify(text)} naming key, value and accepted form`, () => {
      assert.throws(
        () => parseDuration(text, "[gc] keep-unused"),
        (error: unknown) =>
          error instanceof ImagelessError &&
          error.kind === "invalid-input" &&
          error.message.startsWith(`[gc] keep-unused: cannot use ${JSON.stringify(text)}: accepted form is`),
      );
    });
  }

  it("throws only ImagelessError for arbitrary text", () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          const ms = parseDuration(text, "k");
          return Number.isSafeInteger(ms) && ms >= 0;
        } catch (error) {
          return error instanceof ImagelessError;
        }
      }),
    );
  });

  it("round-trips h/m/s groups", () => {
    fc.assert(
      fc.property(fc.nat(1000), fc.nat(59), fc.nat(59), (h, m, s) => {
        return parseDuration(`${h}h${m}m${s}s`, "k") === ((h * 60 + m) * 60 + s) * 1000;
      }),
    );
  });
});
