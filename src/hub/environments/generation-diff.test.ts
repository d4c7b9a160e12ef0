import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { GenerationView, PackageRow } from "./environment-view.js";
import { diffGenerations, type GenerationDiff } from "./generation-diff.js";

const pkg = (
  installId: string,
  version: string | undefined,
  extra: Partial<PackageRow> = {},
): PackageRow => ({
  installId,
  ...(version === undefined ? {} : { version }),
  systems: ["x86_64-linux"],
  priority: 5,
  ...extra,
});

const gen = (over: Partial<GenerationView> = {}): GenerationView => ({
  packages: [],
  vars: {},
  hook: {},
  profile: {},
  ...over,
});

const none: GenerationDiff = { packages: [], vars: [], scripts: [] };

describe("diffGenerations()", () => {
  const cases: [string, GenerationView, GenerationView, GenerationDiff][] = [
    [
      "finds nothing between equal generations",
      gen({ packages: [pkg("hello", "1.0")] }),
      gen({ packages: [pkg("hello", "1.0")] }),
      none,
    ],
    [
      "lists added, removed and upgraded packages sorted by install id",
      gen({ packages: [pkg("zlib", "1.3"), pkg("curl", "8.0"), pkg("hello", "1.0")] }),
      gen({ packages: [pkg("hello", "2.0"), pkg("zlib", "1.3"), pkg("bash", "5.2")] }),
      {
        ...none,
        packages: [
          { installId: "bash", change: "added", to: "5.2" },
          { installId: "curl", change: "removed", from: "8.0" },
          { installId: "hello", change: "upgraded", from: "1.0", to: "2.0" },
        ],
      },
    ],
    [
      "compares store paths when a package has no version (store-path packages), and a downgrade is upgraded too",
      gen({ packages: [pkg("hello", undefined, { storePath: "/nix/store/b-hello-2" }), pkg("jq", "1.7")] }),
      gen({ packages: [pkg("hello", undefined, { storePath: "/nix/store/a-hello-1" }), pkg("jq", "1.6")] }),
      {
        ...none,
        packages: [
          {
            installId: "hello",
            change: "upgraded",
            from: "/nix/store/b-hello-2",
            to: "/nix/store/a-hello-1",
          },
          { installId: "jq", change: "upgraded", from: "1.7", to: "1.6" },
        ],
      },
    ],
    [
      "joins the versions of a package locked differently per system, and ignores a system added with the same version",
      gen({
        packages: [
          pkg("go", "1.21", { systems: ["x86_64-linux"] }),
          pkg("go", "1.20", { systems: ["aarch64-linux"] }),
          pkg("git", "2.4"),
        ],
      }),
      gen({
        packages: [
          pkg("go", "1.22", { systems: ["x86_64-linux", "aarch64-linux"] }),
          pkg("git", "2.4", { systems: ["x86_64-linux", "aarch64-linux"] }),
        ],
      }),
      { ...none, packages: [{ installId: "go", change: "upgraded", from: "1.20, 1.21", to: "1.22" }] },
    ],
    [
      "uses the catalog path of a package that is not locked",
      gen({ packages: [] }),
      gen({ packages: [pkg("hello", undefined, { pkgPath: "hello" })] }),
      { ...none, packages: [{ installId: "hello", change: "added", to: "hello" }] },
    ],
    [
      "lists variables added, removed and changed, with both values",
      gen({ vars: { A: "1", B: "2", C: "3" } }),
      gen({ vars: { C: "3", B: "two", D: "" } }),
      {
        ...none,
        vars: [
          { name: "A", change: "removed", from: "1" },
          { name: "B", change: "changed", from: "2", to: "two" },
          { name: "D", change: "added", to: "" },
        ],
      },
    ],
    [
      "lists a hook added, changed or removed, and profile scripts per shell",
      gen({ hook: {}, profile: { bash: "alias a=b", common: "x" } }),
      gen({ hook: { onActivate: "echo hi" }, profile: { common: "x", zsh: "alias z=y" } }),
      {
        ...none,
        scripts: [
          { script: "hook.on-activate", to: "echo hi" },
          { script: "profile.bash", from: "alias a=b" },
          { script: "profile.zsh", to: "alias z=y" },
        ],
      },
    ],
    [
      "shows a changed hook with both texts",
      gen({ hook: { onActivate: "echo one" } }),
      gen({ hook: { onActivate: "echo two" } }),
      { ...none, scripts: [{ script: "hook.on-activate", from: "echo one", to: "echo two" }] },
    ],
  ];
  for (const [name, from, to, expected] of cases) {
    it(name, () => assert.deepEqual(diffGenerations(from, to), expected));
  }

  it("from a generation to itself is empty, and swapping the sides swaps added and removed", () => {
    const a = gen({ packages: [pkg("hello", "1.0")], vars: { X: "1" } });
    const b = gen({ packages: [pkg("jq", "1.7")], vars: {} });
    assert.deepEqual(diffGenerations(a, a), none);
    assert.deepEqual(diffGenerations(b, a), {
      packages: [
        { installId: "hello", change: "added", to: "1.0" },
        { installId: "jq", change: "removed", from: "1.7" },
      ],
      vars: [{ name: "X", change: "added", to: "1" }],
      scripts: [],
    });
  });
});
