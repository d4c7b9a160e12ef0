import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseLockfile } from "../../environment/lockfile.js";
import { parseManifestToml } from "../../environment/manifest.js";
import { parseGenerationsMetadata } from "../../floxhub/metadata.js";
import { describeChange, generationRows, packageRows, rollbackTarget } from "./environment-view.js";

/** metadata.json v2 from [kind, current, previous?, timestamp] rows. */
function meta(rows: [string, number, number | undefined, number][]) {
  const history = rows.map(([kind, current, previous, timestamp]) => ({
    kind,
    author: "alice",
    hostname: "laptop",
    timestamp,
    current_generation: String(current),
    ...(previous === undefined ? {} : { previous_generation: String(previous) }),
  }));
  return parseGenerationsMetadata(JSON.stringify({ version: 2, total_generations: 3, history }), "test");
}

const made = meta([
  ["initialize", 1, undefined, 10],
  ["install", 2, 1, 20],
  ["edit", 3, 2, 30],
]);

describe("rollbackTarget()", () => {
  const cases: [string, ReturnType<typeof meta>, number][] = [
    ["goes to the generation before the newest", made, 2],
    [
      "goes to the previously live generation, not live - 1",
      meta([
        ["initialize", 1, undefined, 10],
        ["install", 2, 1, 20],
        ["edit", 3, 2, 30],
        ["switch_generation", 1, 3, 40],
        ["switch_generation", 3, 1, 50],
      ]),
      1,
    ],
    [
      "undoes a switch",
      meta([
        ["initialize", 1, undefined, 10],
        ["install", 2, 1, 20],
        ["switch_generation", 1, 2, 30],
      ]),
      2,
    ],
  ];
  for (const [name, input, expected] of cases) {
    it(`rollbackTarget() ${name}`, () => assert.equal(rollbackTarget(input, "env"), expected));
  }
  it("rollbackTarget() refuses when no other generation was ever live", () => {
    assert.throws(
      () => rollbackTarget(meta([["initialize", 1, undefined, 10]]), 'environment "a/b"'),
      /no earlier live generation/,
    );
  });
});

describe("generationRows()", () => {
  it("generationRows() gives creation, last-live time, author and description per generation", () => {
    const switched = meta([
      ["initialize", 1, undefined, 10],
      ["install", 2, 1, 20],
      ["switch_generation", 1, 2, 30],
    ]);
    assert.deepEqual(generationRows(switched), [
      { generation: 1, created: 10, description: "created environment", author: "alice", live: true },
      {
        generation: 2,
        created: 20,
        description: "installed packages",
        author: "alice",
        lastLive: 30,
        live: false,
      },
    ]);
  });
});

describe("describeChange()", () => {
  it("describeChange() prefers the summary and names targets", () => {
    const [entry] = parseGenerationsMetadata(
      JSON.stringify({
        version: 2,
        total_generations: 1,
        history: [
          {
            kind: "install",
            targets: ["hello", "jq"],
            author: "a",
            hostname: "h",
            timestamp: 1,
            current_generation: "1",
          },
        ],
      }),
      "t",
    ).history;
    assert.ok(entry);
    assert.equal(describeChange(entry), "installed 'hello', 'jq'");
    assert.equal(describeChange({ ...entry, summary: "custom" }), "custom");
  });
});

describe("packageRows()", () => {
  const pkg = (system: string, version: string) => ({
    install_id: "hello",
    system,
    version,
    group: "toplevel",
    priority: 5,
    outputs: { out: "/nix/store/00000000000000000000000000000000-hello" },
    outputs_to_install: ["out"],
  });
  it("packageRows() groups systems that share a version and splits those that do not", () => {
    const lock = parseLockfile(
      JSON.stringify({
        "lockfile-version": 1,
        manifest: { version: 1, install: { hello: { "pkg-path": "hello" } } },
        packages: [pkg("x86_64-linux", "2.12"), pkg("aarch64-linux", "2.12"), pkg("x86_64-darwin", "2.10")],
      }),
      "lock",
    );
    assert.deepEqual(
      packageRows(lock, parseManifestToml('version = 1\n[install]\nhello.pkg-path = "hello"\n', "m")),
      [
        {
          installId: "hello",
          pkgPath: "hello",
          version: "2.12",
          priority: 5,
          systems: ["x86_64-linux", "aarch64-linux"],
        },
        { installId: "hello", pkgPath: "hello", version: "2.10", priority: 5, systems: ["x86_64-darwin"] },
      ],
    );
  });
  it("packageRows() reads the manifest as written when there is no lock", () => {
    const manifest = parseManifestToml(
      'version = 1\n[install]\njq.pkg-path = ["jq"]\njq.version = "1.7"\n[options]\nsystems = ["x86_64-linux"]\n',
      "m",
    );
    assert.deepEqual(packageRows(undefined, manifest), [
      { installId: "jq", pkgPath: "jq", version: "1.7", systems: ["x86_64-linux"], priority: 5 },
    ]);
  });
});
