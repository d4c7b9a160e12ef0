import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Access } from "../access.js";
import {
  classifyCredentials,
  decideGitRequest,
  type GitRequestFacts,
  parseGitTarget,
  receiveViewConfig,
  uploadViewConfig,
} from "./git-access.js";

describe("parseGitTarget()", () => {
  const cases: [string, string, object | undefined][] = [
    [
      "GET",
      "/git/acme/floxmeta/info/refs?service=git-upload-pack",
      { owner: "acme", service: "upload-pack", phase: "advertise", pathInfo: "/acme/floxmeta/info/refs" },
    ],
    [
      "GET",
      "/git/acme/floxmeta/info/refs?service=git-receive-pack",
      { owner: "acme", service: "receive-pack", phase: "advertise", pathInfo: "/acme/floxmeta/info/refs" },
    ],
    [
      "POST",
      "/git/acme/floxmeta/git-upload-pack",
      { owner: "acme", service: "upload-pack", phase: "rpc", pathInfo: "/acme/floxmeta/git-upload-pack" },
    ],
    [
      "POST",
      "/git/acme/floxmeta/git-receive-pack",
      { owner: "acme", service: "receive-pack", phase: "rpc", pathInfo: "/acme/floxmeta/git-receive-pack" },
    ],
    ["GET", "/git/acme/floxmeta/info/refs", undefined],
    ["GET", "/git/acme/floxmeta/HEAD", undefined],
    ["GET", "/git/acme/floxmeta/objects/info/packs", undefined],
    ["GET", "/git/acme/floxmeta/git-upload-pack", undefined],
    ["POST", "/git/acme/floxmeta/info/refs?service=git-upload-pack", undefined],
    ["GET", "/git/../floxmeta/info/refs?service=git-upload-pack", undefined],
    ["GET", "/git/Acme/floxmeta/info/refs?service=git-upload-pack", undefined],
    ["GET", "/git/acme/other/info/refs?service=git-upload-pack", undefined],
  ];
  for (const [method, url, expected] of cases) {
    it(`parseGitTarget() reads ${method} ${url}`, () => {
      assert.deepEqual(parseGitTarget(method, url), expected);
    });
  }
});

describe("classifyCredentials()", () => {
  const basic = (text: string) => `Basic ${Buffer.from(text).toString("base64")}`;
  const cases: [string | undefined, string][] = [
    [undefined, "none"],
    ["", "none"],
    [basic("oauth:"), "empty"],
    [basic("oauth"), "empty"],
    [basic("oauth:tok"), "token"],
    ["Bearer tok", "token"],
  ];
  for (const [header, expected] of cases) {
    it(`classifyCredentials() reads ${JSON.stringify(header)} as ${expected}`, () => {
      assert.equal(classifyCredentials(header), expected);
    });
  }
});

describe("decideGitRequest()", () => {
  const branches = (pairs: [string, Access][]) => pairs.map(([name, access]) => ({ name, access }));
  const base: GitRequestFacts = {
    service: "upload-pack",
    credentials: "token",
    principal: "bob",
    repoExists: true,
    branches: [],
    ownerAccess: "none",
  };
  const cases: [string, Partial<GitRequestFacts>, object][] = [
    ["reads of a missing repository", { repoExists: false }, { kind: "refuse", status: 404 }],
    [
      "anonymous reads when something is hidden",
      {
        credentials: "none",
        principal: undefined,
        branches: branches([
          ["a", "read"],
          ["b", "none"],
        ]),
      },
      { kind: "refuse", status: 401 },
    ],
    [
      "anonymous reads when nothing is hidden",
      { credentials: "none", principal: undefined, branches: branches([["a", "read"]]) },
      { kind: "serve", createRepo: false },
    ],
    [
      "answered-anonymous reads of a mixed repository",
      {
        credentials: "empty",
        principal: undefined,
        branches: branches([
          ["a", "read"],
          ["b", "none"],
        ]),
      },
      { kind: "serve", createRepo: false },
    ],
    [
      "answered-anonymous reads of an all-private repository",
      { credentials: "empty", principal: undefined, branches: branches([["b", "none"]]) },
      { kind: "refuse", status: 401 },
    ],
    ["a token that reads nothing", { branches: branches([["b", "none"]]) }, { kind: "refuse", status: 403 }],
    [
      "anonymous pushes",
      { service: "receive-pack", credentials: "none", principal: undefined },
      { kind: "refuse", status: 401 },
    ],
    [
      "pushes without any write access",
      { service: "receive-pack", ownerAccess: "read", branches: branches([["a", "read"]]) },
      { kind: "refuse", status: 403 },
    ],
    [
      "a first push by the owner",
      { service: "receive-pack", ownerAccess: "write", repoExists: false },
      { kind: "serve", createRepo: true, push: { create: true, write: [] } },
    ],
    [
      "a push by an environment writer",
      {
        service: "receive-pack",
        branches: branches([
          ["a", "write"],
          ["b", "none"],
        ]),
      },
      { kind: "serve", createRepo: false, push: { create: false, write: ["a"] } },
    ],
  ];
  for (const [what, facts, expected] of cases) {
    it(`decideGitRequest() decides ${what}`, () => {
      const decision = decideGitRequest("acme", { ...base, ...facts });
      for (const [key, value] of Object.entries(expected)) {
        assert.deepEqual(
          (decision as unknown as Record<string, unknown>)[key],
          value,
          `${key} of ${JSON.stringify(decision)}`,
        );
      }
    });
  }

  it("decideGitRequest() hides unreadable branches from a pusher", () => {
    const decision = decideGitRequest("acme", {
      ...base,
      service: "receive-pack",
      ownerAccess: "write",
      branches: branches([
        ["a", "write"],
        ["b", "none"],
      ]),
    });
    assert.ok(decision.kind === "serve");
    assert.deepEqual(decision.config, [["receive.hideRefs", "refs/heads/b"]]);
  });
});

describe("uploadViewConfig()", () => {
  it("uploadViewConfig() hides every ref and HEAD, then un-hides the readable branches", () => {
    assert.deepEqual(uploadViewConfig(["web"]), [
      ["uploadpack.hideRefs", "refs"],
      ["uploadpack.hideRefs", "HEAD"],
      ["uploadpack.hideRefs", "!refs/heads/web"],
    ]);
  });
  it("receiveViewConfig() hides exactly the given branches", () => {
    assert.deepEqual(receiveViewConfig([]), []);
  });
});
