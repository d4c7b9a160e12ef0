import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseEnvRefArg, parseGenerationArg, parseVisibilityArg } from "./env-ref-arg.js";

describe("parseEnvRefArg()", () => {
  it("reads owner/name", () =>
    assert.deepEqual(parseEnvRefArg("acme/web-1.x"), { owner: "acme", name: "web-1.x" }));
  for (const bad of [
    "acme",
    "acme/web/x",
    "/web",
    "acme/",
    "acme/.hidden",
    "acme/a..b",
    "acme/x.lock",
    "a b/c",
  ]) {
    it(`refuses ${JSON.stringify(bad)}`, () => {
      assert.throws(
        () => parseEnvRefArg(bad),
        new RegExp(
          `^ImagelessError: -r: cannot use ${JSON.stringify(bad).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: .*; accepted: "owner/name", owner `,
        ),
      );
    });
  }
});

describe("parseGenerationArg() and parseVisibilityArg()", () => {
  it("accept generation numbers ≥ 1 and public/private only", () => {
    assert.equal(parseGenerationArg("12"), 12);
    for (const bad of ["0", "-1", "1.5", "x", ""])
      assert.throws(() => parseGenerationArg(bad), /give a generation number ≥ 1/);
    assert.equal(parseVisibilityArg("public"), "public");
    assert.throws(() => parseVisibilityArg("open"), /visibility "open" is not accepted/);
  });
});
