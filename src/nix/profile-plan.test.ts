import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { describeConflict, findProfileConflicts, type PlannedPackage } from "./profile-plan.js";

const pkg = (installId: string, priority: number, ...files: string[]): PlannedPackage => ({
  installId,
  priority,
  files,
});

describe("findProfileConflicts()", () => {
  const cases: { name: string; packages: PlannedPackage[]; expected: [string, string, string, string][] }[] =
    [
      { name: "no packages", packages: [], expected: [] },
      {
        name: "disjoint files merge their shared directories",
        packages: [pkg("a", 5, "bin/a", "share/man/man1/a.1"), pkg("b", 5, "bin/b", "share/man/man1/b.1")],
        expected: [],
      },
      {
        name: "the same file at equal priority conflicts",
        packages: [pkg("hello", 5, "bin/hello"), pkg("hello-other", 5, "bin/hello")],
        expected: [["bin/hello", "hello", "hello-other", "file"]],
      },
      {
        name: "a lower priority number wins, in either order",
        packages: [pkg("other", 6, "bin/hello"), pkg("hello", 5, "bin/hello")],
        expected: [],
      },
      {
        name: "the conflict names the package linked first (lower priority) first",
        packages: [pkg("z", 3, "bin/x"), pkg("y", 3, "bin/x"), pkg("w", 1, "bin/w")],
        expected: [["bin/x", "z", "y", "file"]],
      },
      {
        name: "a file against a directory collides whatever the priority",
        packages: [pkg("a", 1, "share/man"), pkg("b", 9, "share/man/man1/b.1")],
        expected: [["share/man", "a", "b", "file-and-directory"]],
      },
      {
        name: "a file against a merged directory collides",
        packages: [pkg("a", 1, "lib/x.so"), pkg("b", 2, "lib/y.so"), pkg("c", 3, "lib")],
        expected: [["lib", "a", "c", "file-and-directory"]],
      },
      {
        name: "a file loses to a whole linked directory of lower priority number",
        packages: [pkg("file", 6, "etc"), pkg("dir", 5, "etc/")],
        expected: [],
      },
      {
        name: "a directory collides with a file of lower priority number",
        packages: [pkg("file", 5, "etc"), pkg("dir", 6, "etc/")],
        expected: [["etc", "file", "dir", "file-and-directory"]],
      },
      {
        name: "empty directories listed with a slash merge",
        packages: [pkg("a", 5, "share/"), pkg("b", 5, "share/")],
        expected: [],
      },
      {
        name: "nix-support, log, info/dir and hidden names are never linked",
        packages: [
          pkg("a", 5, "nix-support/setup-hook", "share/info/dir", "var/log", ".hidden", "manifest.json"),
          pkg("b", 5, "nix-support/setup-hook", "share/info/dir", "var/log", ".hidden", "manifest.json"),
        ],
        expected: [],
      },
      {
        name: "conflicts deep inside merged directories are all reported",
        packages: [pkg("a", 5, "bin/x", "bin/y", "lib/z"), pkg("b", 5, "bin/x", "bin/y", "lib/q")],
        expected: [
          ["bin/x", "a", "b", "file"],
          ["bin/y", "a", "b", "file"],
        ],
      },
    ];
  for (const { name, packages, expected } of cases) {
    it(name, () => {
      const found = findProfileConflicts(packages).map((c) => [c.path, c.first, c.second, c.kind]);
      assert.deepEqual(found, expected);
    });
  }

  it("finds no conflict between packages with distinct priorities and only files", () => {
    const files = fc.array(fc.constantFrom("bin/a", "bin/b", "share/x", "lib/l.so"), { maxLength: 4 });
    fc.assert(
      fc.property(fc.array(files, { maxLength: 5 }), (lists) => {
        const packages = lists.map((list, index) => pkg(`p${index}`, index, ...list));
        return findProfileConflicts(packages).length === 0;
      }),
    );
  });
});

describe("describeConflict()", () => {
  it("says which packages, which file and what to change", () => {
    const [conflict] = findProfileConflicts([pkg("a", 5, "bin/hello"), pkg("b", 5, "bin/hello")]);
    assert.ok(conflict);
    assert.equal(
      describeConflict(conflict),
      `packages 'a' and 'b' both provide bin/hello at priority 5: give one of them a lower "priority" in the manifest`,
    );
  });
});
