import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ImagelessError } from "../../errors/imageless-error.js";
import {
  type BranchFacts,
  checkRefUpdate,
  formatPushAccess,
  largestBlob,
  type PushAccess,
  parsePushAccess,
  parseRefUpdates,
  validateBranchUpdate,
} from "./push-validation.js";

const ZERO = "0".repeat(40);
const A = "a".repeat(40);
const B = "b".repeat(40);

describe("checkRefUpdate()", () => {
  const owner: PushAccess = { create: true, write: ["web"] };
  const writer: PushAccess = { create: false, write: ["web"] };
  const cases: [string, string, string, PushAccess, RegExp | undefined][] = [
    ["an update of a writable environment", A, "refs/heads/web", writer, undefined],
    ["a new environment by an owner", ZERO, "refs/heads/api", owner, undefined],
    [
      "a new environment without owner write access",
      ZERO,
      "refs/heads/api",
      writer,
      /creating environments here needs write access to the owner/,
    ],
    [
      "an environment the pusher may not write",
      A,
      "refs/heads/api",
      writer,
      /environment 'api': pushing needs write access/,
    ],
    [
      "a tag",
      ZERO,
      "refs/tags/v1",
      owner,
      /refs\/tags\/v1: only environment branches \(refs\/heads\/<name>\) can be pushed/,
    ],
    ["a nested branch name", ZERO, "refs/heads/a/b", owner, /environment name "a\/b" is not accepted/],
    ["a name starting with a dot", ZERO, "refs/heads/.x", owner, /environment name ".x" is not accepted/],
    [
      "a name ending in .lock",
      ZERO,
      "refs/heads/a.lock",
      owner,
      /environment name "a\.lock" is not accepted/,
    ],
  ];
  for (const [what, oldId, ref, access, refusal] of cases) {
    it(`checkRefUpdate() ${refusal === undefined ? "accepts" : "refuses"} ${what}`, () => {
      const verdict = checkRefUpdate({ oldId, newId: B, ref }, access);
      if (refusal === undefined) assert.deepEqual(verdict, { accepted: true });
      else assert.ok(!verdict.accepted && refusal.test(verdict.reason), JSON.stringify(verdict));
    });
  }

  it("checkRefUpdate() refuses deleting an environment", () => {
    const verdict = checkRefUpdate({ oldId: A, newId: ZERO, ref: "refs/heads/web" }, owner);
    assert.ok(!verdict.accepted && /deleting an environment by push is not supported/.test(verdict.reason));
  });
});

function meta(generations: number[], extra: object[] = []): string {
  const history = generations.map((g, i) => ({
    kind: i === 0 ? "initialize" : "edit",
    author: "alice",
    hostname: "laptop",
    timestamp: 1000 + i,
    current_generation: String(g),
    ...(i === 0 ? {} : { previous_generation: String(generations[i - 1]) }),
  }));
  return JSON.stringify({
    version: 2,
    total_generations: Math.max(0, ...generations),
    history: [...history, ...extra],
  });
}

function files(generations: number[]): Set<string> {
  return new Set([
    "metadata.json",
    ...generations.flatMap((g) => [`${g}/env/manifest.toml`, `${g}/env/manifest.lock`]),
  ]);
}

describe("validateBranchUpdate()", () => {
  const cases: [string, BranchFacts, RegExp | undefined][] = [
    [
      "a new environment with one generation",
      { fastForward: true, newMetadata: meta([1]), newFiles: files([1]) },
      undefined,
    ],
    [
      "a new generation on top",
      { fastForward: true, oldMetadata: meta([1]), newMetadata: meta([1, 2]), newFiles: files([1, 2]) },
      undefined,
    ],
    [
      "a switch back to generation 1",
      { fastForward: true, oldMetadata: meta([1, 2]), newMetadata: meta([1, 2, 1]), newFiles: files([1, 2]) },
      undefined,
    ],
    [
      "a v1 metadata.json",
      {
        fastForward: true,
        newMetadata: JSON.stringify({ version: 1, currentGen: "1", generations: { "1": {} } }),
        newFiles: files([1]),
      },
      undefined,
    ],
    [
      "repairing a branch whose old metadata.json was broken",
      { fastForward: true, oldMetadata: "{", newMetadata: meta([1]), newFiles: files([1]) },
      undefined,
    ],
    [
      "a non-fast-forward",
      { fastForward: false, oldMetadata: meta([1]), newMetadata: meta([1]), newFiles: files([1]) },
      /history was rewritten \(not a fast-forward\)/,
    ],
    ["a missing metadata.json", { fastForward: true, newFiles: files([1]) }, /metadata\.json is missing/],
    [
      "metadata.json that is not JSON",
      { fastForward: true, newMetadata: "{ no", newFiles: files([1]) },
      /metadata\.json is not valid JSON/,
    ],
    [
      "an unknown metadata version",
      { fastForward: true, newMetadata: '{"version":9}', newFiles: files([1]) },
      /metadata\.json has version 9/,
    ],
    [
      "a history entry without an author",
      {
        fastForward: true,
        newMetadata:
          '{"version":2,"total_generations":1,"history":[{"kind":"edit","hostname":"h","timestamp":1,"current_generation":"1"}]}',
        newFiles: files([1]),
      },
      /history\[0\]\.author must be a string/,
    ],
    [
      "no generation at all",
      { fastForward: true, newMetadata: meta([]), newFiles: files([]) },
      /metadata\.json has no live generation/,
    ],
    [
      "a live generation without its manifest",
      { fastForward: true, newMetadata: meta([1, 2]), newFiles: files([1]) },
      /live generation 2 has no 2\/env\/manifest\.toml/,
    ],
    [
      "an older generation without its manifest",
      { fastForward: true, newMetadata: meta([1, 2]), newFiles: files([2]) },
      /: generation 1 has no 1\/env\/manifest\.toml/,
    ],
    [
      "a removed generation",
      { fastForward: true, oldMetadata: meta([1, 2]), newMetadata: meta([2]), newFiles: files([1, 2]) },
      /generation 1 would be removed; history only grows/,
    ],
    [
      "a shorter history",
      { fastForward: true, oldMetadata: meta([1, 2, 1]), newMetadata: meta([1, 2]), newFiles: files([1, 2]) },
      /history would shrink from 3 to 2 entries/,
    ],
    [
      "a changed history entry",
      {
        fastForward: true,
        oldMetadata: meta([1, 2]),
        newMetadata: meta([1, 2]).replace('"author":"alice"', '"author":"mallory"'),
        newFiles: files([1, 2]),
      },
      /history entry 1 was changed/,
    ],
  ];
  for (const [what, facts, refusal] of cases) {
    it(`validateBranchUpdate() ${refusal === undefined ? "accepts" : "refuses"} ${what}`, () => {
      const verdict = validateBranchUpdate("web", facts);
      if (refusal === undefined) assert.deepEqual(verdict, { accepted: true });
      else {
        assert.ok(!verdict.accepted, `accepted ${what}`);
        assert.match(verdict.reason, /^environment 'web': /);
        assert.match(verdict.reason, refusal);
        assert.ok(!verdict.reason.includes("\n"));
      }
    });
  }
});

describe("parseRefUpdates()", () => {
  it("parseRefUpdates() reads pre-receive's lines", () => {
    assert.deepEqual(parseRefUpdates(`${ZERO} ${A} refs/heads/web\n${A} ${B} refs/heads/api\n`), [
      { oldId: ZERO, newId: A, ref: "refs/heads/web" },
      { oldId: A, newId: B, ref: "refs/heads/api" },
    ]);
  });
  it("parseRefUpdates() refuses a malformed line as invalid-input", () => {
    assert.throws(
      () => parseRefUpdates("nonsense\n"),
      (e: unknown) => e instanceof ImagelessError && e.kind === "invalid-input",
    );
  });
});

describe("parsePushAccess()", () => {
  const cases: [string | undefined, PushAccess][] = [
    [formatPushAccess({ create: true, write: ["a", "b"] }), { create: true, write: ["a", "b"] }],
    ['{"create":"yes","write":[1,"x"]}', { create: false, write: ["x"] }],
    [undefined, { create: false, write: [] }],
    ["{", { create: false, write: [] }],
    ["null", { create: false, write: [] }],
  ];
  for (const [text, expected] of cases) {
    it(`parsePushAccess() reads ${JSON.stringify(text)} as ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(parsePushAccess(text), expected);
    });
  }
});

describe("largestBlob() and the file size limit", () => {
  it("largestBlob() finds the largest file of ls-tree -r -l -z output", () => {
    const listing = `100644 blob ${"a".repeat(40)}      12\tmetadata.json\u0000100644 blob ${"b".repeat(40)} 157286400\t1/env/manifest.lock\0`;
    assert.deepEqual(largestBlob(listing), { path: "1/env/manifest.lock", bytes: 157286400 });
    assert.equal(largestBlob(""), undefined);
  });
  it("validateBranchUpdate() refuses a file over the limit before reading any", () => {
    assert.deepEqual(
      validateBranchUpdate("web", {
        fastForward: true,
        newFiles: new Set(["metadata.json"]),
        largestFile: { path: "metadata.json", bytes: 150 * 1024 * 1024 },
        maxFileBytes: 8 * 1024 * 1024,
      }),
      {
        accepted: false,
        reason:
          "environment 'web': metadata.json is 150.0 MiB, over the hub's limit of 8.0 MiB (hub serve --max-blob)",
      },
    );
  });
});
