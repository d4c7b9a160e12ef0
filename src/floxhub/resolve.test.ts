import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ImagelessError } from "../errors/imageless-error.js";
import { pickGeneration } from "./resolve.js";

describe("pickGeneration()", () => {
  const web = { owner: "acme", name: "web" };
  it("takes the live generation for an unpinned ref", () => {
    assert.equal(pickGeneration(web, [1, 2, 3], 2), 2);
  });
  it("takes the pinned generation when it exists, live or not", () => {
    assert.equal(pickGeneration({ ...web, generation: 3 }, [1, 2, 3], 2), 3);
  });
  const failures: [number | undefined, readonly number[], number | undefined, string][] = [
    [4, [1, 2, 3], 3, "environment 'acme/web:4': generation 4 does not exist: existing generations: 1, 2, 3"],
    [undefined, [], undefined, "environment 'acme/web' has no live generation: none exist yet"],
    [1, [], undefined, "environment 'acme/web:1': generation 1 does not exist: none exist yet"],
  ];
  for (const [generation, generations, live, message] of failures) {
    it(`refuses ${generation ?? "live"} of [${generations.join(",")}] as not-found`, () => {
      const ref = generation === undefined ? web : { ...web, generation };
      assert.throws(
        () => pickGeneration(ref, generations, live),
        (e: unknown) => e instanceof ImagelessError && e.kind === "not-found" && e.message === message,
      );
    });
  }
  it("shortens a long generation list", () => {
    const many = Array.from({ length: 40 }, (_, i) => i + 1);
    assert.throws(
      () => pickGeneration({ ...web, generation: 99 }, many, 40),
      /existing generations: 1, 2, 3, …, 36, 37, 38, 39, 40$/,
    );
  });
});
