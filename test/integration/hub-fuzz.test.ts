/**
 * Bad input, fuzzed (fast-check): requests the hub's HTTP surface (API, cache, git, web) did not
 * expect — arbitrary methods, paths, queries, headers, tokens and bodies — against the real app over
 * a SQLite store. Malformed requests get a 4xx, never a 5xx, and API errors stay one-line JSON.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import type { FastifyInstance } from "fastify";
import { createUserDirect } from "../../src/hub/accounts/bootstrap.js";
import type { HubStore } from "../../src/hub/db/hub-store.js";
import { openHubStore } from "../../src/hub/db/open-hub-store.js";
import { buildHubApp } from "../../src/hub/server.js";
import { nullLogger } from "../../src/log/logger.js";
import { makeTempDir, removeTree } from "../harness/temp.js";

// The budget of each property; the suite prints the total it ran.
const RUNS = { api: 1500, cache: 600, anywhere: 600 };

let work: string;
let store: HubStore;
let app: FastifyInstance;
let token = "";

before(async () => {
  work = await makeTempDir("hub-fuzz");
  const dataDir = join(work, "data");
  token = (await createUserDirect({ dataDir }, "alice", { admin: true })).token.reveal();
  store = await openHubStore({ dataDir });
  ({ app } = await buildHubApp(store, { dataDir, log: nullLogger }));
  await app.ready();
});
after(async () => {
  await app?.close();
  await store?.close();
  process.stderr.write(`# hub fuzz: ${RUNS.api + RUNS.cache + RUNS.anywhere} requests\n`);
  await removeTree(work);
});

const text = fc.string({ unit: "binary", maxLength: 40 });
const segment = fc.oneof(
  fc.constantFrom(
    "accounts",
    "me",
    "users",
    "tokens",
    "orgs",
    "acme",
    "alice",
    "members",
    "environments",
    "web",
    "generations",
    "history",
    "switch",
    "rollback",
    "visibility",
    "..",
    "%00",
    "%2e%2e",
    "",
    "nar",
    "nix-cache-info",
    `${"0".repeat(32)}.narinfo`,
    `${"1".repeat(52)}.nar.zst`,
  ),
  text.map(encodeURIComponent),
);
const path = (prefix: string) =>
  fc.array(segment, { maxLength: 5 }).map((segments) => `${prefix}/${segments.join("/")}`);
const query = fc.oneof(
  fc.constant(""),
  fc
    .array(fc.tuple(fc.constantFrom("generation", "owner", "visibility", "service", "x"), text), {
      maxLength: 3,
    })
    .map((pairs) => `?${pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&")}`),
);
const authorization = fc.oneof(
  fc.constant(undefined),
  fc.constant("valid"),
  text.map((t) => `Bearer ${t}`),
  text.map((t) => `Basic ${Buffer.from(`oauth:${t}`).toString("base64")}`),
  text,
);
const body = fc.oneof(
  fc.constant(undefined),
  fc.json({ maxDepth: 3 }),
  fc
    .jsonValue({ maxDepth: 2 })
    .map((v) => JSON.stringify({ name: v, role: v, visibility: v, generation: v, handle: v })),
  fc.string({ unit: "binary", maxLength: 200 }),
);
const contentType = fc.constantFrom(
  undefined,
  "application/json",
  "text/plain",
  "application/x-nix-nar",
  "x/y; charset=z",
);
const method = fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS");

type Request = {
  method: string;
  url: string;
  authorization: string | undefined;
  body: string | undefined;
  contentType: string | undefined;
};

async function send(request: Request) {
  const headers: Record<string, string> = {};
  if (request.authorization !== undefined) {
    headers["authorization"] = request.authorization === "valid" ? `Bearer ${token}` : request.authorization;
  }
  if (request.contentType !== undefined) headers["content-type"] = request.contentType;
  return app.inject({
    method: request.method as "GET",
    url: request.url,
    headers,
    ...(request.body === undefined || request.method === "GET" || request.method === "HEAD"
      ? {}
      : { payload: request.body }),
  });
}

function requests(prefix: fc.Arbitrary<string>): fc.Arbitrary<Request> {
  return fc.record({
    method,
    url: fc.tuple(prefix, query).map(([p, q]) => `${p}${q}`),
    authorization,
    body,
    contentType,
  });
}

describe("the hub under fuzzed requests", () => {
  it("answers malformed API requests with a 4xx and a one-line JSON error, never a 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(requests(path("/api/v1")), async (request) => {
        const res = await send(request);
        assert.ok(res.statusCode < 500, `${request.method} ${request.url} → ${res.statusCode} ${res.body}`);
        if (res.statusCode >= 400 && request.method !== "HEAD") {
          const error = (res.json() as { error?: unknown }).error;
          assert.equal(typeof error, "string", res.body);
          assert.doesNotMatch(String(error), /\n/);
        }
      }),
      { numRuns: RUNS.api },
    );
  });

  it("answers malformed cache requests and uploads (random narinfo and NAR bodies) with a 4xx, never a 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(
        requests(fc.oneof(path("/cache"), path("/cache/alice"), path("/cache/alice/nar"))),
        async (request) => {
          const res = await send(request);
          assert.ok(res.statusCode < 500, `${request.method} ${request.url} → ${res.statusCode} ${res.body}`);
        },
      ),
      { numRuns: RUNS.cache },
    );
  });

  it("answers any other path (git, web) without a 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(
        requests(fc.oneof(path("/git"), path(""), path("/git/alice/floxmeta"))),
        async (request) => {
          const res = await send(request);
          assert.ok(res.statusCode < 500, `${request.method} ${request.url} → ${res.statusCode} ${res.body}`);
        },
      ),
      { numRuns: RUNS.anywhere },
    );
  });
});
