import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Secret } from "../log/secret.js";
import { cacheUrlForUpload, copiedTo, parsePathInfoSizes } from "./copy.js";
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

describe("parsePathInfoSizes()", () => {
  it("reads each path's NAR size from nix path-info --json", () => {
    const json = JSON.stringify([
      { path: "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-a", narSize: 2883736, references: [] },
      { path: "/nix/store/abcdfghijklmnpqrsvwxyz0123456789-b", narSize: 120 },
      { path: "/nix/store/abcdfghijklmnpqrsvwxyz0123456789-c", valid: false },
    ]);
    assert.deepEqual(
      [...parsePathInfoSizes(json)],
      [
        ["/nix/store/0123456789abcdfghijklmnpqrsvwxyz-a", 2883736],
        ["/nix/store/abcdfghijklmnpqrsvwxyz0123456789-b", 120],
      ],
    );
  });
});
