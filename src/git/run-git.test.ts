import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Secret } from "../log/secret.js";
import { classifyGitFailure, gitEnvironment, scrubSecret } from "./run-git.js";

describe("classifyGitFailure()", () => {
  // Lines as git 2.39 prints them (LC_ALL=C).
  const cases: [string, string][] = [
    [
      "fatal: unable to access 'http://h/git/o/floxmeta/': The requested URL returned error: 401",
      "unauthorized",
    ],
    ["fatal: unable to access 'https://h/': The requested URL returned error: 403", "unauthorized"],
    ["fatal: could not read Username for 'http://127.0.0.1:4000': terminal prompts disabled", "unauthorized"],
    [
      "remote: Invalid credentials\nfatal: Authentication failed for 'https://h/git/o/floxmeta/'",
      "unauthorized",
    ],
    ["fatal: repository 'http://127.0.0.1:4000/git/o/floxmeta/' not found", "not-found"],
    ["fatal: unable to access 'http://h/': The requested URL returned error: 404", "not-found"],
    ["fatal: '/tmp/x/o/floxmeta' does not appear to be a git repository", "not-found"],
    ["fatal: couldn't find remote ref refs/heads/web", "not-found"],
    [
      "fatal: unable to access 'http://127.0.0.1:1/': Failed to connect to 127.0.0.1 port 1: Connection refused",
      "unavailable",
    ],
    ["fatal: unable to access 'https://nope.invalid/': Could not resolve host: nope.invalid", "unavailable"],
    ["fatal: unable to access 'https://h/': The requested URL returned error: 502", "unavailable"],
    ["error: RPC failed; curl 56 Recv failure: Connection reset by peer", "unavailable"],
    ["fatal: bad object deadbeef", "internal"],
  ];
  for (const [stderr, kind] of cases) {
    it(`classifies ${JSON.stringify(stderr.slice(0, 70))} as ${kind}`, () => {
      assert.equal(classifyGitFailure(stderr), kind);
    });
  }
});

describe("gitEnvironment()", () => {
  it("isolates git from user config and prompts, without a token", () => {
    const env = gitEnvironment({}, "/bin");
    assert.equal(env["GIT_CONFIG_GLOBAL"], "/dev/null");
    assert.equal(env["GIT_CONFIG_SYSTEM"], "/dev/null");
    assert.equal(env["GIT_TERMINAL_PROMPT"], "0");
    assert.equal(env["PATH"], "/bin");
    assert.ok(!Object.values(env).some((v) => v.includes("Authorization")));
  });

  it("sends the token as Basic oauth:<token> in a URL-scoped extraHeader", () => {
    const env = gitEnvironment({ token: new Secret("tok"), authUrl: "https://h/git/o/floxmeta" }, "/bin");
    const count = Number(env["GIT_CONFIG_COUNT"]);
    const pairs = Array.from({ length: count }, (_, i) => [
      env[`GIT_CONFIG_KEY_${i}`],
      env[`GIT_CONFIG_VALUE_${i}`],
    ]);
    const basic = Buffer.from("oauth:tok").toString("base64");
    assert.deepEqual(
      pairs.find(([key]) => key?.endsWith("extraHeader")),
      ["http.https://h/git/o/floxmeta.extraHeader", `Authorization: Basic ${basic}`],
    );
  });
});

describe("scrubSecret()", () => {
  it("removes the token and its Basic encoding", () => {
    const basic = Buffer.from("oauth:s3cret").toString("base64");
    assert.equal(
      scrubSecret(`header Basic ${basic} and s3cret twice s3cret`, new Secret("s3cret")),
      "header Basic [redacted] and [redacted] twice [redacted]",
    );
    assert.equal(scrubSecret("nothing", undefined), "nothing");
  });
});
