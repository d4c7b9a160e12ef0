import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  formatBytes,
  formatEnvironmentDetail,
  formatEnvironmentList,
  formatGenerations,
  formatHistory,
  formatPush,
  formatPushProgress,
  formatSwitch,
  formatTime,
  table,
} from "./format.js";

describe("formatTime()", () => {
  const cases: [string | number | undefined, string][] = [
    [1717000000, "2024-05-29 16:26:40Z"],
    ["2024-05-29T16:26:40.123Z", "2024-05-29 16:26:40Z"],
    [undefined, "-"],
    ["yesterday", "yesterday"],
  ];
  for (const [input, expected] of cases) {
    it(`formats ${JSON.stringify(input)} as ${expected}`, () => assert.equal(formatTime(input), expected));
  }
});

describe("table()", () => {
  it("aligns columns two spaces apart without trailing spaces", () => {
    assert.equal(
      table([
        ["A", "BB", ""],
        ["ccc", "d", ""],
      ]),
      "A    BB\nccc  d",
    );
  });
});

describe("formatEnvironmentList()", () => {
  it("shows owner/name, visibility, live generation and count", () => {
    const text = formatEnvironmentList([
      {
        owner: "acme",
        name: "web",
        visibility: "public",
        liveGeneration: 2,
        totalGenerations: 3,
        updatedAt: 1717000000,
      },
      { owner: "acme", name: "new", visibility: "private", totalGenerations: 0 },
    ]);
    assert.equal(
      text,
      [
        "ENVIRONMENT  VISIBILITY  LIVE  GENERATIONS  UPDATED",
        "acme/web     public      2     3            2024-05-29 16:26:40Z",
        "acme/new     private     -     0            -",
      ].join("\n"),
    );
    assert.equal(formatEnvironmentList([]), "no environments");
  });
});

describe("formatEnvironmentDetail()", () => {
  it("lists packages with versions per system, vars, hook and profile", () => {
    const text = formatEnvironmentDetail({
      owner: "acme",
      name: "web",
      visibility: "private",
      liveGeneration: 2,
      generation: 1,
      packages: [
        { installId: "hello", pkgPath: "hello", version: "2.12", systems: ["x86_64-linux", "aarch64-linux"] },
      ],
      vars: { GREETING: "hi there" },
      hook: { onActivate: "echo hook\n" },
      profile: { common: "alias x=y" },
    });
    assert.match(text, /^acme\/web {2}generation 1 \(live: 2\) {2}private$/m);
    assert.match(text, / {2}hello {2}2\.12 {5}hello {3}x86_64-linux, aarch64-linux$/m);
    assert.match(text, /GREETING="hi there"/);
    assert.match(text, /Hook on-activate:\n {2}echo hook/);
    assert.match(text, /Profile common:\n {2}alias x=y/);
  });
});

describe("formatGenerations() and formatHistory()", () => {
  it("marks the live generation", () => {
    const text = formatGenerations([
      { generation: 1, created: 1717000000, live: false, author: "alice", description: "imported" },
      { generation: 2, created: 1717000100, live: true, author: "bob" },
    ]);
    assert.match(text.split("\n")[2] ?? "", /^2 .*bob.*\(live\)$/);
    assert.doesNotMatch(text.split("\n")[1] ?? "", /live/);
  });

  it("shows who changed what from where, with previous -> current", () => {
    const text = formatHistory([
      {
        kind: "import",
        author: "alice",
        hostname: "laptop",
        timestamp: 1717000000,
        currentGeneration: 1,
        command: ["imageless", "env", "push"],
      },
      {
        kind: "switch_generation",
        author: "bob",
        hostname: "hub",
        timestamp: 1717000100,
        currentGeneration: 1,
        previousGeneration: 2,
      },
    ]);
    const lines = text.split("\n");
    assert.match(lines[1] ?? "", /2024-05-29 16:26:40Z {2}alice +laptop +import +1 +imageless env push$/);
    assert.match(lines[2] ?? "", /bob +hub +switch_generation +2 -> 1$/);
  });
});

describe("formatPush() and formatSwitch()", () => {
  it("says which generation is live and what was copied or skipped", () => {
    assert.equal(
      formatPush({
        ref: { owner: "a", name: "b" },
        generation: 1,
        created: true,
        lockedHere: true,
        copied: 3,
      }),
      "a/b: pushed generation 1 (new environment, private); it is live\nlocked the store-path packages here (no manifest.lock in the directory)\ncopied 3 new store paths to the hub's cache",
    );
    assert.equal(
      formatPush({
        ref: { owner: "a", name: "b" },
        generation: 2,
        created: false,
        lockedHere: false,
        copySkipped: "no cache",
      }),
      "a/b: pushed generation 2; it is live\ndid not copy store paths: no cache",
    );
    assert.equal(
      formatSwitch("a/b", {
        kind: "switch_generation",
        author: "x",
        hostname: "h",
        currentGeneration: 1,
        previousGeneration: 2,
      }),
      "a/b: generation 1 is live (was 2)",
    );
  });
});

describe("formatPushProgress() and formatBytes()", () => {
  it("names the closure's size, then each uploaded path with its own", () => {
    assert.equal(
      formatPushProgress({ kind: "closure", to: "http://h/cache", paths: 4, bytes: 20_012_345 }),
      "uploading to http://h/cache: a closure of 4 store paths, 20.0 MB (paths the cache has are skipped)",
    );
    assert.equal(
      formatPushProgress({
        kind: "path",
        path: "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-a" as never,
        bytes: 2048,
      }),
      "  /nix/store/0123456789abcdfghijklmnpqrsvwxyz-a  2.0 kB",
    );
    assert.equal(
      formatPushProgress({ kind: "path", path: "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-a" as never }),
      "  /nix/store/0123456789abcdfghijklmnpqrsvwxyz-a",
    );
  });
  it("uses decimal units", () => {
    assert.deepEqual([999, 1000, 1_500_000, 3_200_000_000].map(formatBytes), [
      "999 B",
      "1.0 kB",
      "1.5 MB",
      "3.2 GB",
    ]);
  });
  it("adds the copied bytes to the push summary when known", () => {
    assert.equal(
      formatPush({
        ref: { owner: "a", name: "b" },
        generation: 3,
        created: false,
        lockedHere: false,
        copied: 2,
        copiedBytes: 36_000,
      }),
      "a/b: pushed generation 3; it is live\ncopied 2 new store paths (36.0 kB) to the hub's cache",
    );
  });
});
