import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ImagelessError } from "../errors/imageless-error.js";
import { deriveGitBaseUrl, floxmetaUrl } from "./git-url.js";

describe("deriveGitBaseUrl()", () => {
  const cases: [string, string | undefined, string][] = [
    ["https://hub.flox.dev", undefined, "https://api.flox.dev/git"],
    ["https://hub.flox.dev/", undefined, "https://api.flox.dev/git"],
    ["https://hub.preview.flox.dev", undefined, "https://api.preview.flox.dev/git"],
    ["https://hub.preview.flox.dev/", "", "https://api.preview.flox.dev/git"],
    ["http://127.0.0.1:7878", undefined, "http://127.0.0.1:7878/git"],
    ["https://floxhub.example.com/base/", undefined, "https://floxhub.example.com/base/git"],
    ["https://hub.flox.dev.example.com", undefined, "https://hub.flox.dev.example.com/git"],
    ["https://hub.flox.dev", "http://127.0.0.1:9/git/", "http://127.0.0.1:9/git"],
    ["https://hub.flox.dev", "file:///srv/floxmeta", "file:///srv/floxmeta"],
  ];
  for (const [hub, explicit, expected] of cases) {
    it(`maps ${hub} (git-url ${JSON.stringify(explicit)}) to ${expected}`, () => {
      assert.equal(deriveGitBaseUrl(hub, explicit), expected);
    });
  }

  const bad: [string, string | undefined, RegExp][] = [
    ["hub.flox.dev", undefined, /floxhub url "hub.flox.dev" is not a URL/],
    ["ftp://x", undefined, /has scheme ftp:/],
    ["https://hub.flox.dev", "ssh://git@x/y", /floxhub git-url "ssh:\/\/git@x\/y" has scheme ssh:/],
    ["https://oauth:tok@hub.example.com", undefined, /must not contain credentials/],
  ];
  for (const [hub, explicit, message] of bad) {
    it(`refuses ${hub} ${explicit ?? ""} as invalid-input`, () => {
      assert.throws(
        () => deriveGitBaseUrl(hub, explicit),
        (e: unknown) => e instanceof ImagelessError && e.kind === "invalid-input" && message.test(e.message),
      );
    });
  }
});

describe("floxmetaUrl()", () => {
  it("appends <owner>/floxmeta", () => {
    assert.equal(floxmetaUrl("https://api.flox.dev/git", "acme"), "https://api.flox.dev/git/acme/floxmeta");
    assert.equal(floxmetaUrl("file:///srv/", "a.b-c_d"), "file:///srv/a.b-c_d/floxmeta");
  });
  for (const owner of ["", "..", "a/b", "-x", "a b"]) {
    it(`refuses owner ${JSON.stringify(owner)}`, () => {
      assert.throws(() => floxmetaUrl("https://x/git", owner), /environment owner/);
    });
  }
});
