import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Principal } from "../access.js";
import { environmentAccessFor, lastOwnerProblem, mayAdminister, ownerAccessFor } from "./permissions.js";

const user = (name: string, admin = false): Principal => ({ kind: "user", name, admin });
const machine = (org: string): Principal => ({ kind: "org-token", name: org, admin: false });

describe("environmentAccessFor()", () => {
  const cases: [string, Parameters<typeof environmentAccessFor>[0], string][] = [
    ["anonymous reads public", { principal: undefined, owner: "acme", visibility: "public" }, "read"],
    ["anonymous sees no private", { principal: undefined, owner: "acme", visibility: "private" }, "none"],
    ["the owning user writes", { principal: user("alice"), owner: "alice", visibility: "private" }, "write"],
    [
      "another user reads public only",
      { principal: user("bob"), owner: "alice", visibility: "public" },
      "read",
    ],
    [
      "another user sees no private",
      { principal: user("bob"), owner: "alice", visibility: "private" },
      "none",
    ],
    [
      "admins write anything",
      { principal: user("root", true), owner: "acme", visibility: "private" },
      "write",
    ],
    [
      "org owners write",
      { principal: user("a"), owner: "acme", visibility: "private", role: "owner" },
      "write",
    ],
    [
      "org writers write",
      { principal: user("b"), owner: "acme", visibility: "private", role: "writer" },
      "write",
    ],
    [
      "org readers read private",
      { principal: user("c"), owner: "acme", visibility: "private", role: "reader" },
      "read",
    ],
    [
      "the org's machine token writes",
      { principal: machine("acme"), owner: "acme", visibility: "private" },
      "write",
    ],
    [
      "another org's machine token sees no private",
      { principal: machine("other"), owner: "acme", visibility: "private" },
      "none",
    ],
    [
      "unindexed: only writers see it",
      { principal: user("bob"), owner: "acme", visibility: undefined },
      "none",
    ],
  ];
  for (const [name, input, expected] of cases) {
    it(`environmentAccessFor() ${name}`, () => assert.equal(environmentAccessFor(input), expected));
  }
});

describe("ownerAccessFor()", () => {
  it("gives readers read and strangers nothing", () => {
    assert.equal(ownerAccessFor({ principal: user("c"), owner: "acme", role: "reader" }), "read");
    assert.equal(ownerAccessFor({ principal: user("d"), owner: "acme" }), "none");
    assert.equal(ownerAccessFor({ principal: undefined, owner: "acme" }), "none");
  });
});

describe("mayAdminister()", () => {
  const cases: [string, Parameters<typeof mayAdminister>[0], boolean][] = [
    ["the user itself", { principal: user("alice"), owner: "alice" }, true],
    ["an org owner", { principal: user("alice"), owner: "acme", role: "owner" }, true],
    ["an admin", { principal: user("root", true), owner: "acme" }, true],
    ["not a writer", { principal: user("bob"), owner: "acme", role: "writer" }, false],
    ["not a machine token of the org", { principal: machine("acme"), owner: "acme" }, false],
    ["not anonymous", { principal: undefined, owner: "acme" }, false],
  ];
  for (const [name, input, expected] of cases) {
    it(`mayAdminister() is ${expected} for ${name}`, () => assert.equal(mayAdminister(input), expected));
  }
});

describe("lastOwnerProblem()", () => {
  const members = [
    { handle: "alice", role: "owner" as const },
    { handle: "bob", role: "writer" as const },
  ];
  it("lastOwnerProblem() refuses removing or demoting the last owner", () => {
    assert.match(
      lastOwnerProblem("acme", members, { handle: "alice", role: undefined }) ?? "",
      /last owner of organisation "acme"/,
    );
    assert.match(lastOwnerProblem("acme", members, { handle: "alice", role: "reader" }) ?? "", /last owner/);
  });
  it("lastOwnerProblem() accepts changes that keep an owner", () => {
    assert.equal(lastOwnerProblem("acme", members, { handle: "bob", role: undefined }), undefined);
    assert.equal(lastOwnerProblem("acme", members, { handle: "bob", role: "owner" }), undefined);
    const two = [...members, { handle: "carol", role: "owner" as const }];
    assert.equal(lastOwnerProblem("acme", two, { handle: "alice", role: undefined }), undefined);
  });
});
