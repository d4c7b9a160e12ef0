import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { assertSchemaRequiredFields } from "../../test/harness/floxmeta-fixture.js";
import { floxFixturesDir } from "../../test/harness/repo-root.js";
import { ImagelessError } from "../errors/imageless-error.js";
import {
  appendGeneration,
  appendSwitch,
  initialMetadata,
  type MetadataJson,
  parseGenerationsMetadata,
} from "./metadata.js";

const FLOX = floxFixturesDir();
const who = { author: "alice", hostname: "laptop", timestamp: 1717000000 };

describe("parseGenerationsMetadata()", () => {
  it("reads a v2 document: live generation from the last entry, generations, typed history", () => {
    const text = JSON.stringify({
      version: 2,
      total_generations: 3,
      history: [
        {
          kind: "initialize",
          author: "a",
          hostname: "h",
          command: ["flox", "push"],
          timestamp: 1,
          current_generation: "1",
        },
        {
          kind: "install",
          targets: ["hello"],
          author: "a",
          hostname: "h",
          timestamp: 2,
          current_generation: "2",
          previous_generation: "1",
        },
        {
          kind: "edit",
          author: "a",
          hostname: "h",
          timestamp: 3,
          current_generation: "3",
          previous_generation: "2",
          command: null,
        },
        {
          kind: "switch_generation",
          author: "b",
          hostname: "h2",
          timestamp: 4,
          current_generation: "1",
          previous_generation: "3",
          future: { x: 1 },
        },
      ],
    });
    const meta = parseGenerationsMetadata(text, "metadata.json of 'o/n'");
    assert.equal(meta.version, 2);
    assert.equal(meta.liveGeneration, 1);
    assert.deepEqual(meta.generations, [1, 2, 3]);
    assert.equal(meta.history.length, 4);
    assert.deepEqual(meta.history[1]?.targets, ["hello"]);
    assert.equal(meta.history[2]?.command, undefined);
    assert.equal(meta.history[3]?.previousGeneration, 3);
    assert.deepEqual(meta.history[3]?.raw["future"], { x: 1 });
  });

  it("reads an empty v2 document as having no live generation", () => {
    const meta = parseGenerationsMetadata(JSON.stringify(initialMetadata()), "m");
    assert.equal(meta.liveGeneration, undefined);
    assert.deepEqual(meta.generations, []);
  });

  it("reads the legacy bash-era v1 file", () => {
    const text = readFileSync(join(FLOX, "metadata-legacy-bash-era.json"), "utf8");
    const meta = parseGenerationsMetadata(text, "legacy");
    assert.equal(meta.version, 1);
    assert.equal(meta.liveGeneration, 2);
    assert.deepEqual(meta.generations, [1, 2]);
    assert.deepEqual(meta.history, []);
  });

  it("refuses version 3 naming the input and what is read", () => {
    assert.throws(
      () => parseGenerationsMetadata('{"version":3}', "metadata.json of 'o/n'"),
      (e: unknown) =>
        e instanceof ImagelessError &&
        e.kind === "unsupported" &&
        e.message ===
          "metadata.json of 'o/n' has version 3: this imageless reads versions 1 and 2; update imageless",
    );
  });

  const bad: [object, RegExp][] = [
    [{ version: 2, history: [] }, /total_generations must be an integer/],
    [{ version: 2, total_generations: 1, history: [{ kind: "edit" }] }, /history\[0\]\.timestamp/],
    [
      {
        version: 2,
        total_generations: 1,
        history: [{ kind: "e", author: "a", hostname: "h", timestamp: 1, current_generation: "x" }],
      },
      /current_generation cannot be "x"/,
    ],
  ];
  for (const [doc, message] of bad) {
    it(`refuses ${JSON.stringify(doc).slice(0, 60)}… as invalid-input`, () => {
      assert.throws(
        () => parseGenerationsMetadata(JSON.stringify(doc), "m"),
        (e: unknown) => e instanceof ImagelessError && e.kind === "invalid-input" && message.test(e.message),
      );
    });
  }

  it("throws only ImagelessError on arbitrary JSON", () => {
    const entry = fc.record(
      {
        kind: fc.oneof(fc.string(), fc.anything()),
        author: fc.oneof(fc.string(), fc.anything()),
        hostname: fc.string(),
        timestamp: fc.oneof(fc.nat(), fc.anything()),
        current_generation: fc.oneof(fc.constantFrom("1", "2", "0", "x"), fc.anything()),
        previous_generation: fc.anything(),
        command: fc.anything(),
      },
      { requiredKeys: [] },
    );
    const doc = fc.record(
      {
        version: fc.constantFrom(1, 2, 3, "2"),
        total_generations: fc.oneof(fc.nat(), fc.anything()),
        history: fc.oneof(fc.array(entry), fc.anything()),
        currentGen: fc.anything(),
        generations: fc.anything(),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(doc, fc.jsonValue()), (value) => {
        try {
          parseGenerationsMetadata(JSON.stringify(value) ?? "", "fuzz");
        } catch (error) {
          assert.ok(error instanceof ImagelessError, String(error));
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe("metadata writers", () => {
  it("appendGeneration() numbers generations and links the previous live one", () => {
    let meta: MetadataJson = initialMetadata();
    meta = appendGeneration(meta, { ...who, kind: "initialize", command: ["flox", "push"] });
    meta = appendGeneration(meta, { ...who, kind: "install", targets: ["hello"] });
    assert.equal(meta.total_generations, 2);
    assert.equal(meta.history[1]?.["current_generation"], "2");
    assert.equal(meta.history[1]?.["previous_generation"], "1");
    const parsed = parseGenerationsMetadata(JSON.stringify(meta), "m");
    assert.equal(parsed.liveGeneration, 2);
    assertSchemaRequiredFields(meta);
  });

  it("appendSwitch() changes the live generation, not the count, and keeps unknown fields", () => {
    const base = { ...appendGeneration(appendGeneration(initialMetadata(), who), who), extra: "kept" };
    const meta = appendSwitch(base, 1, who);
    assert.equal(meta.total_generations, 2);
    assert.equal(meta["extra"], "kept");
    assert.equal(meta.history.at(-1)?.["kind"], "switch_generation");
    assert.equal(meta.history.at(-1)?.["previous_generation"], "2");
    assert.equal(parseGenerationsMetadata(JSON.stringify(meta), "m").liveGeneration, 1);
    assert.equal(base.history.length, 2, "the input is not changed");
    assertSchemaRequiredFields(meta);
  });

  it("appendSwitch() refuses a generation that does not exist", () => {
    assert.throws(
      () => appendSwitch(appendGeneration(initialMetadata(), who), 4, who),
      /generations 1 to 1 exist/,
    );
  });
});
