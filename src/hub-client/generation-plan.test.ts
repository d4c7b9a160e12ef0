import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { assertSchemaRequiredFields } from "../../test/harness/floxmeta-fixture.js";
import { ImagelessError } from "../errors/imageless-error.js";
import {
  appendGeneration,
  appendSwitch,
  initialMetadata,
  parseGenerationsMetadata,
} from "../floxhub/metadata.js";
import { initializeMessage, initialMetadataText, planGeneration } from "./generation-plan.js";

const who = {
  name: "web",
  author: "alice",
  hostname: "laptop",
  timestamp: 1717000000,
  command: ["imageless", "env", "push", "-d", ".", "-r", "alice/web"],
};
const content = { manifestToml: "version = 1\n", lockText: '{"lockfile-version":1}\n' };

describe("planGeneration()", () => {
  it("starts a new environment at generation 1 with an import entry and no previous generation", () => {
    const plan = planGeneration(undefined, content, who);
    assert.equal(plan.generation, 1);
    assert.equal(plan.initialize, true);
    assert.equal(plan.message, "Create generation 1");
    assert.deepEqual(Object.keys(plan.files).sort(), [
      "1/env/manifest.lock",
      "1/env/manifest.toml",
      "metadata.json",
    ]);
    assert.equal(plan.files["1/env/manifest.toml"], content.manifestToml);
    const meta = JSON.parse(plan.files["metadata.json"] ?? "");
    assert.deepEqual(meta, {
      version: 2,
      total_generations: 1,
      history: [
        {
          kind: "import",
          author: "alice",
          hostname: "laptop",
          command: who.command,
          timestamp: 1717000000,
          current_generation: "1",
          previous_generation: null,
        },
      ],
    });
    assertSchemaRequiredFields(meta);
  });

  it("adds generation N+1 after a switch, recording the live generation as previous, keeping unknown fields", () => {
    // Three generations, then a switch back to 1, as the metadata writers record them; plus a field
    // this version does not know at the top and in an entry.
    const by = (author: string, hostname: string, timestamp: number) => ({ author, hostname, timestamp });
    const generations = [1, 2, 3].reduce(
      (meta, t) => appendGeneration(meta, { kind: t === 1 ? "import" : "edit", ...by("a", "h", t) }),
      initialMetadata(),
    );
    const stored = appendSwitch(generations, 1, by("b", "hub", 4));
    const [first, ...rest] = stored.history;
    const existing = JSON.stringify({ ...stored, extra: "kept", history: [{ ...first, x: 1 }, ...rest] });
    const plan = planGeneration(existing, content, { ...who, timestamp: 5 });
    assert.equal(plan.generation, 4);
    assert.equal(plan.initialize, false);
    assert.ok("4/env/manifest.lock" in plan.files);
    const text = plan.files["metadata.json"] ?? "";
    const meta = parseGenerationsMetadata(text, "plan");
    assert.equal(meta.liveGeneration, 4);
    assert.deepEqual(meta.generations, [1, 2, 3, 4]);
    const last = meta.history.at(-1);
    assert.equal(last?.kind, "edit");
    assert.equal(last?.previousGeneration, 1);
    assert.equal(last?.author, "alice");
    const raw = JSON.parse(text);
    assert.equal(raw.extra, "kept");
    assert.equal(raw.history[0].x, 1);
  });

  it("adds generation 1 to an initialised branch without a new initialize commit", () => {
    const plan = planGeneration(initialMetadataText(), content, who);
    assert.equal(plan.generation, 1);
    assert.equal(plan.initialize, false);
  });

  it("refuses version 1 metadata, saying how to migrate", () => {
    const v1 = JSON.stringify({ version: 1, currentGen: "1", generations: { "1": {} } });
    assert.throws(
      () => planGeneration(v1, content, who),
      (e: unknown) =>
        e instanceof ImagelessError && e.kind === "unsupported" && /version 1: .*migrate/.test(e.message),
    );
  });
});

describe("initializeMessage()", () => {
  it("is Flox's first-commit message", () => {
    assert.equal(initializeMessage("web"), "Initialize generations branch for environment 'web'");
    assert.deepEqual(JSON.parse(initialMetadataText()), { version: 2, total_generations: 0, history: [] });
  });
});
