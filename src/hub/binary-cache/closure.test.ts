import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { closureOf, readersByPath } from "./closure.js";

const graph: Record<string, string[]> = { app: ["lib", "app"], lib: ["libc"], libc: [], other: ["libc"] };
const refs = (hash: string) => graph[hash];

describe("closureOf()", () => {
  const cases: [string[], string[]][] = [
    [["app"], ["app", "lib", "libc"]],
    [["libc"], ["libc"]],
    [["missing"], ["missing"]],
    [[], []],
    [
      ["app", "other"],
      ["app", "lib", "libc", "other"],
    ],
  ];
  for (const [roots, expected] of cases) {
    it(`closureOf() of ${JSON.stringify(roots)} follows references transitively, self-references once`, () => {
      assert.deepEqual([...closureOf(roots, refs)].sort(), expected);
    });
  }
});

describe("readersByPath()", () => {
  it("readersByPath() lists every environment whose closure holds a path", () => {
    const readers = readersByPath(
      new Map([
        ["acme/web", new Set(["app"])],
        ["acme/tools", new Set(["other"])],
      ]),
      refs,
    );
    assert.deepEqual(readers.get("app"), ["acme/web"]);
    assert.deepEqual(readers.get("libc")?.sort(), ["acme/tools", "acme/web"]);
    assert.equal(readers.get("nothing"), undefined);
  });
});
