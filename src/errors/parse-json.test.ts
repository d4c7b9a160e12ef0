import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ImagelessError } from "./imageless-error.js";
import { parseJson } from "./parse-json.js";

describe("parseJson()", () => {
  it("returns the parsed value", () => {
    assert.deepEqual(parseJson('{"a":[1,null,"x"]}', "x.json"), { a: [1, null, "x"] });
  });

  it("refuses bad JSON as invalid-input in one line naming the input, keeping the cause", () => {
    let caught: unknown;
    try {
      parseJson('{"a":\n\n  oops}', "metadata.json of 'acme/web'");
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof ImagelessError);
    assert.equal(caught.kind, "invalid-input");
    assert.match(caught.message, /^metadata\.json of 'acme\/web' is not valid JSON: \S/);
    assert.doesNotMatch(caught.message, /\n/);
    assert.ok(caught.cause instanceof SyntaxError);
  });
});
