import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Secret } from "../log/secret.js";
import {
  type AuthorisationRecord,
  authorisationChanged,
  decideOffline,
  nextAuthorisation,
  parseAuthorisationRecord,
  tokenIdentity,
} from "./offline-grace.js";

const HOUR = 3_600_000;
const record: AuthorisationRecord = {
  version: 1,
  environment: "acme/web",
  identity: "anonymous",
  authorisedAt: 10 * HOUR,
  lastCommit: "c-pinned",
  live: { generation: 3, commit: "c-live" },
};

describe("tokenIdentity()", () => {
  it("hashes a token and never contains it; anonymous is its own identity", () => {
    const id = tokenIdentity(new Secret("s3cret-token"));
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    assert.ok(!id.includes("s3cret-token"));
    assert.equal(id, tokenIdentity(new Secret("s3cret-token")));
    assert.notEqual(id, tokenIdentity(new Secret("other")));
    assert.equal(tokenIdentity(undefined), "anonymous");
  });
});

describe("decideOffline()", () => {
  const grace = { now: 20 * HOUR, graceMs: 24 * HOUR };
  const cases: ReadonlyArray<
    readonly [
      string,
      Parameters<typeof decideOffline>[0],
      AuthorisationRecord | undefined,
      typeof grace,
      RegExp | string[],
    ]
  > = [
    [
      "a pinned ref within grace",
      { owner: "acme", name: "web", generation: 2 },
      record,
      grace,
      ["c-live", "c-pinned"],
    ],
    [
      "an unpinned ref within grace, from the last live",
      { owner: "acme", name: "web" },
      record,
      grace,
      ["c-live"],
    ],
    ["no record", { owner: "acme", name: "web" }, undefined, grace, /never authorised/],
    [
      "grace over",
      { owner: "acme", name: "web", generation: 2 },
      record,
      { now: 35 * HOUR, graceMs: 24 * HOUR },
      /longer ago than \[floxhub\] offline-grace \(24h\)/,
    ],
    [
      "an unpinned ref never resolved live",
      { owner: "acme", name: "web" },
      { ...record, live: undefined },
      grace,
      /never resolved its live/,
    ],
  ];
  for (const [label, ref, rec, opts, expected] of cases) {
    it(`decides ${label}`, () => {
      const decision = decideOffline(ref, rec, opts);
      if (Array.isArray(expected)) assert.deepEqual(decision, { kind: "use-cache", commits: expected });
      else {
        assert.equal(decision.kind, "refuse");
        assert.match(decision.kind === "refuse" ? decision.reason : "", expected);
      }
    });
  }
  it("refuses at exactly grace plus one millisecond, allows at grace", () => {
    const ref = { owner: "acme", name: "web", generation: 1 };
    assert.equal(
      decideOffline(ref, record, { now: record.authorisedAt + 1000, graceMs: 1000 }).kind,
      "use-cache",
    );
    assert.equal(
      decideOffline(ref, record, { now: record.authorisedAt + 1001, graceMs: 1000 }).kind,
      "refuse",
    );
  });
});

describe("nextAuthorisation()", () => {
  it("moves live on an unpinned resolve and keeps it on a pinned one", () => {
    const ref = { owner: "acme", name: "web" };
    const live = nextAuthorisation(record, { ref, generation: 4, live: true, commit: "c4" }, "anonymous", 99);
    assert.deepEqual(live.live, { generation: 4, commit: "c4" });
    assert.equal(live.authorisedAt, 99);
    const pinned = nextAuthorisation(
      live,
      { ref, generation: 1, live: false, commit: "c5" },
      "anonymous",
      100,
    );
    assert.deepEqual(pinned.live, { generation: 4, commit: "c4" });
    assert.equal(pinned.lastCommit, "c5");
  });
});

describe("parseAuthorisationRecord()", () => {
  it("round-trips a record and rejects anything else", () => {
    assert.deepEqual(parseAuthorisationRecord(JSON.stringify(record)), record);
    for (const text of [
      "",
      "{}",
      "[]",
      "null",
      '{"version":2}',
      JSON.stringify({ ...record, authorisedAt: "x" }),
    ])
      assert.equal(parseAuthorisationRecord(text), undefined);
  });
});

describe("authorisationChanged()", () => {
  const later = (ms: number, change: Partial<AuthorisationRecord> = {}): AuthorisationRecord => ({
    ...record,
    authorisedAt: record.authorisedAt + ms,
    ...change,
  });
  const cases: ReadonlyArray<
    readonly [string, AuthorisationRecord | undefined, AuthorisationRecord, number, boolean]
  > = [
    ["no record yet", undefined, record, 24 * HOUR, true],
    ["the same resolution a second later", record, later(1000), 24 * HOUR, false],
    ["the same resolution a minute later", record, later(60_000), 24 * HOUR, true],
    ["a new commit a second later", record, later(1000, { lastCommit: "c-new" }), 24 * HOUR, true],
    [
      "a new live generation",
      record,
      later(1000, { live: { generation: 4, commit: "c4" } }),
      24 * HOUR,
      true,
    ],
    ["a short grace refreshes sooner (a hundredth of it)", record, later(10, {}), 1000, true],
    ["a short grace, within its hundredth", record, later(9), 1000, false],
  ];
  for (const [name, previous, next, graceMs, expected] of cases) {
    it(name, () => assert.equal(authorisationChanged(previous, next, graceMs), expected));
  }
});
