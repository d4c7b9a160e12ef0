import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import { ImagelessError } from "../errors/imageless-error.js";
import { Secret } from "../log/secret.js";
import { HubApiClient, hubErrorLine, statusKind } from "./api-client.js";
import { deriveApiBaseUrl, deriveCacheUrl } from "./hub-urls.js";

describe("statusKind() and hubErrorLine()", () => {
  const cases: [number, string][] = [
    [400, "invalid-input"],
    [401, "unauthorized"],
    [403, "unauthorized"],
    [404, "not-found"],
    [409, "failed-precondition"],
    [502, "unavailable"],
    [418, "internal"],
  ];
  for (const [status, kind] of cases)
    it(`maps HTTP ${status} to ${kind}`, () => assert.equal(statusKind(status), kind));
  it("shows the hub's error line, or the status for a non-JSON body", () => {
    assert.equal(
      hubErrorLine(404, '{"error":"environment \'a/b\' not found"}'),
      "environment 'a/b' not found (HTTP 404)",
    );
    assert.equal(hubErrorLine(502, "<html>bad gateway</html>"), "the hub answered HTTP 502");
  });
});

describe("deriveApiBaseUrl() and deriveCacheUrl()", () => {
  it("uses api.<x>.flox.dev for Flox's hubs and <hub>/api/v1 elsewhere", () => {
    assert.equal(deriveApiBaseUrl("https://hub.flox.dev"), "https://api.flox.dev/api/v1");
    assert.equal(deriveApiBaseUrl("https://hub.preview.flox.dev/"), "https://api.preview.flox.dev/api/v1");
    assert.equal(deriveApiBaseUrl("http://127.0.0.1:7878/"), "http://127.0.0.1:7878/api/v1");
    assert.equal(deriveCacheUrl("http://127.0.0.1:7878/", "acme"), "http://127.0.0.1:7878/cache/acme");
    assert.throws(() => deriveApiBaseUrl("ftp://x"), /accepted are http:\/\/ and https:\/\//);
  });
});

describe("HubApiClient against an HTTP server speaking docs/hub.md", () => {
  let app: FastifyInstance;
  let url: string;
  const seen: { auth?: string | undefined; body?: unknown }[] = [];
  before(async () => {
    app = Fastify({ logger: false });
    app.get("/api/v1/accounts/me", async (req, reply) => {
      seen.push({ auth: req.headers.authorization });
      if (req.headers.authorization !== "Bearer good")
        return reply.code(401).send({ error: "the token is not valid" });
      return { handle: "alice", kind: "user", admin: false, orgs: [{ name: "acme", role: "owner" }] };
    });
    app.get("/api/v1/environments", async () => [
      {
        owner: "acme",
        name: "web",
        visibility: "public",
        liveGeneration: 2,
        totalGenerations: 2,
        updatedAt: "2026-01-01T00:00:00Z",
      },
    ]);
    app.get("/api/v1/environments/acme/web", async (req) => ({
      owner: "acme",
      name: "web",
      visibility: "public",
      liveGeneration: 2,
      generation: Number((req.query as Record<string, string>)["generation"] ?? 2),
      packages: [{ installId: "hello", storePath: "/nix/store/x", systems: ["x86_64-linux"], priority: 5 }],
      vars: { A: "b" },
      hook: { onActivate: "echo" },
      profile: {},
    }));
    app.post("/api/v1/environments/acme/web/switch", async (req) => {
      seen.push({ body: req.body });
      return {
        kind: "switch_generation",
        author: "alice",
        hostname: "hub",
        timestamp: 5,
        currentGeneration: "1",
        previousGeneration: "2",
      };
    });
    app.get("/api/v1/environments/acme/gone/history", async (_req, reply) =>
      reply.code(404).send({ error: "environment 'acme/gone' not found" }),
    );
    url = await app.listen({ host: "127.0.0.1", port: 0 });
  });
  after(async () => {
    await app.close();
  });

  it("sends the token as Bearer and parses every answer into the documented shape", async () => {
    const hub = new HubApiClient({ hubUrl: url, token: new Secret("good") });
    assert.deepEqual(await hub.me(), {
      handle: "alice",
      kind: "user",
      admin: false,
      orgs: [{ name: "acme", role: "owner" }],
    });
    assert.equal(seen[0]?.auth, "Bearer good");
    assert.equal((await hub.listEnvironments())[0]?.liveGeneration, 2);
    const detail = await hub.environment({ owner: "acme", name: "web" }, 1);
    assert.equal(detail.generation, 1);
    assert.deepEqual(detail.packages[0]?.systems, ["x86_64-linux"]);
    const entry = await hub.switchGeneration({ owner: "acme", name: "web" }, 1);
    assert.deepEqual(seen.at(-1)?.body, { generation: 1 });
    assert.equal(entry.currentGeneration, 1);
    assert.equal(entry.previousGeneration, 2);
  });

  it("turns error answers into one line of the right kind, without the token", async () => {
    const bad = new HubApiClient({ hubUrl: url, token: new Secret("wrong-secret") });
    await assert.rejects(bad.me(), (e: unknown) => {
      assert.ok(e instanceof ImagelessError);
      assert.equal(e.kind, "unauthorized");
      assert.equal(e.message, "reading the account of the token: the token is not valid (HTTP 401)");
      return true;
    });
    await assert.rejects(
      bad.history({ owner: "acme", name: "gone" }),
      (e: unknown) => e instanceof ImagelessError && e.kind === "not-found",
    );
    const down = new HubApiClient({ hubUrl: "http://127.0.0.1:1", timeoutMs: 2000 });
    await assert.rejects(down.me(), (e: unknown) => e instanceof ImagelessError && e.kind === "unavailable");
  });
});
