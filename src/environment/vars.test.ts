import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ImagelessError } from "../errors/imageless-error.js";
import { expandReferences, isShellOnlyValue, orderVars } from "./vars.js";

describe("orderVars()", () => {
  it("keeps file order when nothing references anything", () => {
    assert.deepEqual(orderVars({ B: "1", A: "2" }), ["B", "A"]);
  });
  it("puts a referenced variable before its user", () => {
    assert.deepEqual(orderVars({ URL: "http://$HOST:${PORT}", HOST: "h", PORT: "1" }), [
      "HOST",
      "PORT",
      "URL",
    ]);
  });
  it("ignores self references and names that are not vars", () => {
    assert.deepEqual(orderVars({ PATH: "$PATH:/x", A: "$HOME" }), ["PATH", "A"]);
  });
  it("rejects a cycle, naming it", () => {
    assert.throws(
      () => orderVars({ A: "$B", B: "${A}" }),
      (error: unknown) => error instanceof ImagelessError && /cycle: A -> B -> A/.test(error.message),
    );
  });
});

describe("expandReferences()", () => {
  it("expands $NAME and ${NAME}, unset names to empty", () => {
    const env = new Map([["A", "1"]]);
    assert.equal(expandReferences("$A-${A}-$B-x", env), "1-1--x");
  });
});

describe("isShellOnlyValue()", () => {
  const cases: [string, boolean][] = [
    ["plain", false],
    ["$HOME/x", false],
    ["${HOME}/x", false],
    ["$(date)", true],
    ["`date`", true],
    ["${X:-d}", true],
    ["$1", true],
    ["~/x", true],
  ];
  for (const [value, expected] of cases) {
    it(`${JSON.stringify(value)} → ${expected}`, () => assert.equal(isShellOnlyValue(value), expected));
  }
});
