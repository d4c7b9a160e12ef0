import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Secret } from "../log/secret.js";
import { cacheRefusal, cacheUrlForUpload, copiedTo } from "./copy.js";
import { netrcFor } from "./netrc.js";

describe("cacheUrlForUpload()", () => {
  const cases: [string, string][] = [
    ["http://127.0.0.1:7878/cache", "http://127.0.0.1:7878/cache?compression=zstd"],
    ["https://hub.example/cache?priority=10", "https://hub.example/cache?priority=10&compression=zstd"],
    ["https://hub.example/cache?compression=xz", "https://hub.example/cache?compression=xz"],
    ["file:///tmp/cache", "file:///tmp/cache"],
  ];
  for (const [input, expected] of cases)
    it(`turns ${input} into ${expected}`, () => assert.equal(cacheUrlForUpload(input), expected));
});

describe("netrcFor() and copiedTo()", () => {
  it("gives the cache's host oauth:<token>", () => {
    assert.equal(
      netrcFor(["http://127.0.0.1:7878/cache"], new Secret("t0k")),
      "machine 127.0.0.1 login oauth password t0k\n",
    );
  });
  it("names each http(s) host once and skips other substituters", () => {
    const urls = [
      "https://hub.example/cache",
      "file:///srv/cache",
      "https://hub.example/other",
      "http://b/c",
    ];
    assert.equal(
      netrcFor(urls, new Secret("t")),
      "machine hub.example login oauth password t\nmachine b login oauth password t\n",
    );
  });
  it("lists the paths Nix uploaded", () => {
    const stderr = [
      "copying path '/nix/store/0123456789abcdfghijklmnpqrsvwxyz-a' to 'http://h/cache'...",
      "warning: something",
      "copying path '/nix/store/abcdfghijklmnpqrsvwxyz0123456789-b' from 'local?root=/s' to 'http://h/cache'...",
    ].join("\n");
    assert.deepEqual(copiedTo(stderr), [
      "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-a",
      "/nix/store/abcdfghijklmnpqrsvwxyz0123456789-b",
    ]);
  });
});

describe("cacheRefusal()", () => {
  it("cacheRefusal() reads the hub's line from nix 2.8's upload error, and only for 409 and 413", () => {
    const stderr = [
      "copying path '/nix/store/71fc7s32zl20dc955bhghy5dvalm7ndz-busybox' to 'http://h/cache/acme'...",
      "error: while uploading to HTTP binary cache at 'http://h/cache/acme': error: unable to upload 'http://h/cache/acme/71fc7s32zl20dc955bhghy5dvalm7ndz.narinfo': HTTP error 409 ('Conflict')",
      "",
      "              response body:",
      "",
      "              /nix/store/71fc7s32zl20dc955bhghy5dvalm7ndz-busybox in acme's cache exists with different content",
    ].join("\n");
    assert.equal(
      cacheRefusal(stderr),
      "HTTP 409: /nix/store/71fc7s32zl20dc955bhghy5dvalm7ndz-busybox in acme's cache exists with different content",
    );
    assert.equal(
      cacheRefusal("error: … HTTP error 413 ('Payload Too Large')"),
      "HTTP 413: over the hub's size limit or quota",
    );
    assert.equal(cacheRefusal("error: … HTTP error 403 ('Forbidden')"), undefined);
  });
});
