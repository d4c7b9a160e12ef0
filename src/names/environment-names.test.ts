import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ImagelessError } from "../errors/imageless-error.js";
import { floxmetaUrl } from "../floxhub/git-url.js";
import { parseEnvRefArg } from "../hub-client/env-ref-arg.js";
import { parseEnvironmentRef as parsePodRef } from "../pod/policy.js";
import {
  formatEnvironmentRef,
  isEnvironmentName,
  isOwner,
  parseEnvironmentName,
  parseEnvironmentRef,
  parseGeneration,
  parseOwner,
} from "./environment-names.js";

/** One expected answer per edge: [value, accepted as an owner, accepted as an environment name]. */
const EDGES: [string, boolean, boolean][] = [
  ["web", true, true],
  ["_web", false, true],
  ["a.b", true, true],
  ["a..b", false, false],
  ["x.lock", true, false],
  ["a".repeat(39), true, true],
  ["a".repeat(40), false, true],
  ["a".repeat(100), false, true],
  ["a".repeat(101), false, false],
  ["Web", false, true],
  ["ACME", false, true],
  ["wéb", false, false],
  ["ウェブ", false, false],
  ["-web", false, false],
  [".web", false, false],
  ["web-1_2.3", true, true],
  ["", false, false],
  ["a b", false, false],
  ["a/b", false, false],
  ["a:b", false, false],
];

describe("owner and environment names: one answer per edge", () => {
  for (const [value, owner, name] of EDGES) {
    it(`${JSON.stringify(value.length > 12 ? `${value.slice(0, 6)}…(${value.length})` : value)}: owner ${owner}, name ${name}`, () => {
      assert.deepEqual([isOwner(value), isEnvironmentName(value)], [owner, name]);
    });
  }

  it("every consumer gives the same answer: pod annotation, CLI -r, git URL, hub", () => {
    const accepts = (fn: () => unknown): boolean => {
      try {
        fn();
        return true;
      } catch (error) {
        assert.ok(error instanceof ImagelessError, String(error));
        return false;
      }
    };
    for (const [value, owner, name] of EDGES) {
      const asOwner = [
        accepts(() => parsePodRef(`${value}/web`)),
        accepts(() => parseEnvRefArg(`${value}/web`)),
        accepts(() => floxmetaUrl("http://hub/git", value)),
        accepts(() => parseOwner(value, "handle")),
      ];
      // A "/" or ":" in the value changes how a reference splits: the whole-reference parsers see
      // another owner or name then, so only the single-part parsers are compared for those.
      const comparable = !value.includes("/") && !value.includes(":");
      if (comparable) assert.deepEqual(asOwner, [owner, owner, owner, owner], `owner ${value}`);
      const asName = [
        accepts(() => parsePodRef(`acme/${value}`)),
        accepts(() => parseEnvRefArg(`acme/${value}`)),
        accepts(() => parseEnvironmentName(value, "environment name")),
      ];
      if (comparable) assert.deepEqual(asName, [name, name, name], `name ${value}`);
    }
  });
});

describe("parseEnvironmentRef()", () => {
  it("reads owner/name and owner/name:N, spaces around ignored", () => {
    assert.deepEqual(parseEnvironmentRef(" acme/_web:12 ", "annotation a", { generation: true }), {
      owner: "acme",
      name: "_web",
      generation: 12,
    });
    assert.deepEqual(parseEnvironmentRef("acme/web", "-r", { generation: false }), {
      owner: "acme",
      name: "web",
    });
  });

  it("names the input, the value, the wrong part and what is accepted, in one line", () => {
    assert.throws(
      () => parseEnvironmentRef("Acme/web", "annotation flox.dev/environment", { generation: true }),
      new ImagelessError(
        "invalid-input",
        'annotation flox.dev/environment: cannot use "Acme/web": owner "Acme" is not an owner name; accepted: "owner/name" or "owner/name:N" with N a generation number ≥ 1, owner 1 to 39 of a-z, 0-9, "_", "." and "-", starting with a letter or digit, name 1 to 100 of A-Z, a-z, 0-9, ".", "_" and "-", starting with a letter, digit or "_", without ".." or a ".lock" ending',
      ),
    );
  });

  it("refuses a generation where none is allowed: the colon is then part of the name", () => {
    assert.throws(
      () => parseEnvironmentRef("acme/web:3", "-r", { generation: false }),
      /^ImagelessError: -r: cannot use "acme\/web:3": name "web:3" is not an environment name;/,
    );
  });

  it("round-trips every accepted reference and throws only ImagelessError on anything else", () => {
    const owner = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,38}$/);
    const name = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_-]{0,99}$/);
    const generation = fc.option(fc.integer({ min: 1, max: 999_999_999 }), { nil: undefined });
    fc.assert(
      fc.property(owner, name, generation, (o, n, g) => {
        const ref = g === undefined ? { owner: o, name: n } : { owner: o, name: n, generation: g };
        assert.deepEqual(parseEnvironmentRef(formatEnvironmentRef(ref), "ref", { generation: true }), ref);
      }),
    );
    fc.assert(
      fc.property(fc.string(), (value) => {
        try {
          const ref = parseEnvironmentRef(value, "ref", { generation: true });
          assert.ok(isOwner(ref.owner) && isEnvironmentName(ref.name));
        } catch (error) {
          assert.ok(error instanceof ImagelessError);
        }
      }),
    );
  });
});

describe("parseGeneration()", () => {
  it("accepts decimal numbers ≥ 1 and names the input otherwise", () => {
    assert.deepEqual(
      ["1", " 12 ", "999999999"].map((v) => parseGeneration(v, "generation")),
      [1, 12, 999999999],
    );
    for (const bad of ["0", "01", "-1", "1.5", "x", "", "1000000000"]) {
      assert.throws(
        () => parseGeneration(bad, "generation"),
        new ImagelessError(
          "invalid-input",
          `generation ${JSON.stringify(bad)} is not accepted: give a generation number ≥ 1`,
        ),
      );
    }
  });
});
