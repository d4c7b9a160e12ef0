import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseEnvironmentName } from "./environment-name.js";

describe("parseEnvironmentName()", () => {
  for (const name of ["web", "my-env_2", "v1.0", "_x"]) {
    it(`parseEnvironmentName() accepts ${name}`, () => assert.equal(parseEnvironmentName(name), name));
  }
  for (const name of ["", "-x", ".x", "a..b", "x.lock", "a/b", "a b", "x".repeat(101), 3]) {
    it(`parseEnvironmentName() refuses ${JSON.stringify(name)}`, () =>
      assert.throws(() => parseEnvironmentName(name), /environment name .* is not accepted/));
  }
});
