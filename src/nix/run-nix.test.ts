import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isErrorKind } from "../errors/imageless-error.js";
import { isFirstUseRace, lastErrorLine, NixCommandFailure, nixStderr, runNix } from "./run-nix.js";

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

describe("isFirstUseRace()", () => {
  const cases: [string, boolean][] = [
    [
      "error: creating symlink from '/tmp/s/nix/var/nix/gcroots/profiles' to '/tmp/s/nix/var/nix/profiles': File exists",
      true,
    ],
    ["error: SQLite database '/root/.cache/nix/binary-cache-v6.sqlite' is busy: constraint failed", true],
    ["error: path '/nix/store/x' is not valid", false],
    ["error: creating symlink from '/home/me/result' to '/nix/store/x': File exists", false],
  ];
  for (const [stderr, expected] of cases) {
    it(`${expected ? "retries" : "does not retry"}: ${stderr.slice(7, 60)}…`, () => {
      assert.equal(isFirstUseRace(stderr), expected);
    });
  }
});
