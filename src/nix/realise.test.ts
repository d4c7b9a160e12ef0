import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { copiedPaths, copyingPath, fetchPlan } from "./realise.js";

describe("copiedPaths()", () => {
  it("lists the paths of Nix's copying lines and nothing else", () => {
    const a = "/nix/store/00000000000000000000000000000000-a";
    const b = "/nix/store/11111111111111111111111111111111-b";
    const stderr = `these 2 paths will be fetched (0.1 MiB download):\n  ${a}\n  ${b}\ncopying path '${a}' from 'http://c'...\ncopying path '${b}' from 'file:///d'...\nwarning: you did not specify '--add-root'\n`;
    assert.deepEqual(copiedPaths(stderr), [a, b]);
  });
});

describe("fetchPlan()", () => {
  const cases: [string, ReturnType<typeof fetchPlan>][] = [
    [
      "these 2 paths will be fetched (2.86 MiB download, 2.86 MiB unpacked):",
      { kind: "plan", paths: 2, downloadBytes: 2998927, unpackedBytes: 2998927 },
    ],
    [
      "this path will be fetched (0.00 MiB download, 0.00 MiB unpacked):",
      { kind: "plan", paths: 1, downloadBytes: 0, unpackedBytes: 0 },
    ],
    ["these 2 paths will be fetched (0.1 MiB download):", { kind: "plan", paths: 2, downloadBytes: 104858 }],
    ["these 3 derivations will be built:", undefined],
    ["  /nix/store/00000000000000000000000000000000-a", undefined],
    ["copying path '/nix/store/00000000000000000000000000000000-a' from 'http://c'...", undefined],
  ];
  for (const [line, expected] of cases) {
    it(`reads ${JSON.stringify(line)}`, () => assert.deepEqual(fetchPlan(line), expected));
  }
});

describe("copyingPath()", () => {
  const a = "/nix/store/00000000000000000000000000000000-a";
  const cases: [string, string | undefined][] = [
    [`copying path '${a}' from 'https://hub.example/cache/acme'...`, a],
    [`copying path '${a}' to 'file:///c'...`, undefined],
    ["copying path '/tmp/not-a-store-path' from 'http://c'...", undefined],
    [`  ${a}`, undefined],
  ];
  for (const [line, expected] of cases) {
    it(`reads ${JSON.stringify(line)}`, () => assert.equal(copyingPath(line), expected));
  }
});
