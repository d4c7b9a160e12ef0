import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isErrorKind } from "../errors/imageless-error.js";
import { lastErrorLine, NixCommandFailure, nixStderr, runNix } from "./run-nix.js";

describe("lastErrorLine()", () => {
  const cases: [string, string, string][] = [
    ["the last error line wins", "warning: w\nerror: first\nerror: second\n", "second"],
    [
      "warnings are skipped when there is no error line",
      "copying path 'x'\nwarning: w\n",
      "copying path 'x'",
    ],
    ["an empty stderr still gives a line", "", "nix failed without a message"],
  ];
  for (const [name, stderr, expected] of cases) {
    it(name, () => assert.equal(lastErrorLine(stderr), expected));
  }
});

describe("runNix()", () => {
  it("returns stdout of a successful command", async () => {
    assert.match(
      await runNix("nix-store", ["--version"], { action: "asking the version" }),
      /nix-store \(Nix\) \d/,
    );
  });

  it("throws one line saying what was done and why, keeping stderr as the cause", async () => {
    await assert.rejects(
      runNix("nix-store", ["--query", "--no-such-flag"], { action: "testing a bad flag" }),
      (error: unknown) => {
        assert.ok(isErrorKind(error, "internal"));
        assert.match(error.message, /^testing a bad flag: unknown flag '--no-such-flag'$/);
        assert.ok(error.cause instanceof NixCommandFailure);
        assert.match(nixStderr(error) ?? "", /--no-such-flag/);
        return true;
      },
    );
  });
});
