import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { substitutersFor, tokenScope } from "./node-deps.js";

describe("substitutersFor()", () => {
  const table: ReadonlyArray<
    readonly [string, { owner: string; cacheUrl: string; substituters: string[] }, string[]]
  > = [
    [
      "the owner's hub cache first, then [nix] substituters",
      { owner: "acme", cacheUrl: "https://hub.example/cache", substituters: ["https://cache.nixos.org"] },
      ["https://hub.example/cache/acme", "https://cache.nixos.org"],
    ],
    [
      "a trailing slash on cache-url",
      { owner: "acme", cacheUrl: "http://127.0.0.1:7878/cache/", substituters: [] },
      ["http://127.0.0.1:7878/cache/acme"],
    ],
    [
      "no hub cache configured",
      { owner: "acme", cacheUrl: "", substituters: ["https://cache.nixos.org", "https://cache.flox.dev"] },
      ["https://cache.nixos.org", "https://cache.flox.dev"],
    ],
    [
      "an owner that needs escaping stays one path segment",
      { owner: "a b", cacheUrl: "https://hub.example/cache", substituters: [] },
      ["https://hub.example/cache/a%20b"],
    ],
  ];
  for (const [label, input, expected] of table) {
    it(label, () => assert.deepEqual(substitutersFor(input.owner, input), expected));
  }
});

describe("tokenScope()", () => {
  it("is the hub's cache only, or nothing", () => {
    assert.deepEqual(tokenScope("https://hub.example/cache"), ["https://hub.example/cache"]);
    assert.deepEqual(tokenScope(""), []);
  });
});
