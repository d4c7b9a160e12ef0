/**
 * The hub's /api/v1 through real HTTP against a real `imageless hub serve` process, once on SQLite
 * (a file in the data directory) and once on a private PostgreSQL 15: accounts, organisations and
 * roles, user and machine tokens (expiry, revocation, hashes only), and environments read from real
 * floxmeta bare repositories (list, show, generations, history, switch, rollback, visibility).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { runGit } from "../../src/git/run-git.js";
import { createEnvironmentIndex } from "../../src/hub/access-impl.js";
import { openHubStore } from "../../src/hub/db/open-hub-store.js";
import { loadOrCreateJwtSecret } from "../../src/hub/tokens/jwt-secret.js";
import { createTokenService } from "../../src/hub/tokens/token-service.js";
import { HubApiClient } from "../../src/hub-client/api-client.js";
import { Secret } from "../../src/log/secret.js";
import { assertSchemaRequiredFields, floxmetaPath, writeFloxmeta } from "../harness/floxmeta-fixture.js";
import { type HubProcess, startHubProcess } from "../harness/hub.js";
import { type PostgresServer, startPostgres } from "../harness/postgres.js";
import { floxFixturesDir, repoRoot } from "../harness/repo-root.js";
import { makeTempDir, removeTree } from "../harness/temp.js";

const run = promisify(execFile);
const envs = join(floxFixturesDir(), "envs");
const conformance = (env: string) => ({
  manifestToml: readFileSync(join(envs, env, "manifest.toml"), "utf8"),
  lock: JSON.parse(readFileSync(join(envs, env, "manifest.lock"), "utf8")) as object,
});
const SCRIPTED = {
  manifestToml: [
    "version = 1",
    "[install]",
    'hello.pkg-path = "hello"',
    "[vars]",
    'GREETING = "hi"',
    'TARGET = "${GREETING} there"',
    "[hook]",
    "on-activate = 'echo activated'",
    "[profile]",
    "common = 'echo common'",
    "bash = 'echo bash'",
    "",
  ].join("\n"),
  lock: conformance("hello").lock,
};

interface Answer {
  status: number;
  body: unknown;
}

/** One API call; every error answer must be one-line `{ error }` JSON. */
async function api(
  hub: HubProcess,
  method: string,
  path: string,
  opts: { token?: string | undefined; body?: unknown } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (opts.token !== undefined) headers["authorization"] = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${hub.url}/api/v1${path}`, {
    method,
    headers,
    ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
  });
  const text = await response.text();
  const body: unknown = text === "" ? undefined : JSON.parse(text);
  if (response.status >= 400) {
    assert.equal(typeof (body as { error?: unknown }).error, "string", `${method} ${path}: ${text}`);
    assert.doesNotMatch((body as { error: string }).error, /\n/);
  }
  return { status: response.status, body };
}

/** The `{ error }` line of an answer with `status`. */
function errorOf(answer: Answer, status: number): string {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  return (answer.body as { error: string }).error;
}

function ok<T>(answer: Answer, status = 200): T {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  return answer.body as T;
}

type Env = {
  owner: string;
  name: string;
  visibility: string;
  liveGeneration?: number;
  totalGenerations: number;
};

for (const database of ["sqlite", "postgres"] as const) {
  describe(`hub API on ${database}`, () => {
    let pgServer: PostgresServer | undefined;
    let databaseUrl: string | undefined;
    let hub: HubProcess;
    const tokens: Record<string, string> = {};
    /** Every token text the hub handed out: none may appear in the database or the log. */
    const issued: string[] = [];

    const cli = async (...args: string[]) =>
      (
        await run(join(repoRoot(), "bin", "imageless"), args, {
          env: {
            ...process.env,
            ...(databaseUrl === undefined ? {} : { IMAGELESS_HUB_DATABASE: databaseUrl }),
          },
        })
      ).stdout.trim();
    const withStore = async <T>(work: (store: Awaited<ReturnType<typeof openHubStore>>) => Promise<T>) => {
      const store = await openHubStore({
        dataDir: hub.dataDir,
        ...(databaseUrl === undefined ? {} : { database: databaseUrl }),
      });
      try {
        return await work(store);
      } finally {
        await store.close();
      }
    };

    before(async () => {
      if (database === "postgres") {
        pgServer = await startPostgres();
        databaseUrl = await pgServer.createDatabase("hub_api");
      }
      hub = await startHubProcess(databaseUrl === undefined ? {} : { database: databaseUrl });
      issued.push(hub.adminToken);
      tokens["admin"] = hub.adminToken;
      for (const handle of ["alice", "bob", "carol", "dave"]) {
        tokens[handle] = await cli("hub", "user", "create", handle, "--data-dir", hub.dataDir);
        issued.push(tokens[handle] ?? "");
      }
      const git = join(hub.dataDir, "git");
      await writeFloxmeta(git, "alice", [
        { name: "web", generations: [conformance("hello"), SCRIPTED, conformance("go_gcc")] },
        { name: "notes", generations: [{ manifestToml: "version = 1\n", lock: undefined }] },
      ]);
      await writeFloxmeta(git, "acme", [
        { name: "api", generations: [conformance("hello"), conformance("bash")] },
      ]);
      await withStore(async (store) => {
        const index = createEnvironmentIndex(store, Date.now);
        for (const [owner, name] of [
          ["alice", "web"],
          ["alice", "notes"],
          ["acme", "api"],
        ] as const) {
          await index.recordPush(owner, name);
        }
      });
    });
    after(async () => {
      await hub?.stop();
      await pgServer?.stop();
    });

    it("GET /accounts/me names the caller; no token or a bad one is 401", async () => {
      assert.deepEqual(ok(await api(hub, "GET", "/accounts/me", { token: tokens["admin"] })), {
        handle: "admin",
        kind: "user",
        admin: true,
        orgs: [],
      });
      assert.match(errorOf(await api(hub, "GET", "/accounts/me"), 401), /needs a token/);
      assert.match(errorOf(await api(hub, "GET", "/accounts/me", { token: "nonsense" }), 401), /not valid/);
      const forged = `${(tokens["alice"] ?? "").slice(0, -4)}AAAA`;
      assert.match(errorOf(await api(hub, "GET", "/accounts/me", { token: forged }), 401), /signature/);
      assert.match(
        errorOf(await api(hub, "GET", "/nothing/here", { token: tokens["admin"] }), 404),
        /no API route/,
      );
    });

    it("POST /users: admins only, handles validated, names unique", async () => {
      assert.match(
        errorOf(await api(hub, "POST", "/users", { token: tokens["alice"], body: { handle: "eve" } }), 403),
        /only hub admins/,
      );
      assert.deepEqual(
        ok(await api(hub, "POST", "/users", { token: tokens["admin"], body: { handle: "eve" } }), 201),
        { handle: "eve" },
      );
      assert.match(
        errorOf(await api(hub, "POST", "/users", { token: tokens["admin"], body: { handle: "eve" } }), 409),
        /taken/,
      );
      assert.match(
        errorOf(
          await api(hub, "POST", "/users", { token: tokens["admin"], body: { handle: "Bad Name" } }),
          400,
        ),
        /"Bad Name" is not accepted/,
      );
      assert.match(await cli("hub", "user", "list", "--data-dir", hub.dataDir), /^admin\tadmin\t.*\nalice\t/);
    });

    it("organisations: the creator owns it; owners manage members with roles; others are refused", async () => {
      assert.deepEqual(
        ok(await api(hub, "POST", "/orgs", { token: tokens["alice"], body: { name: "acme" } }), 201),
        { name: "acme" },
      );
      assert.match(
        errorOf(await api(hub, "POST", "/orgs", { token: tokens["bob"], body: { name: "alice" } }), 409),
        /taken/,
      );
      const member = (handle: string, role: string, token = tokens["alice"]) =>
        api(hub, "PUT", `/orgs/acme/members/${handle}`, { token, body: { role } });
      ok(await member("bob", "writer"));
      ok(await member("carol", "reader"));
      assert.match(errorOf(await member("carol", "admin"), 400), /use "owner", "writer" or "reader"/);
      assert.match(errorOf(await member("dave", "reader", tokens["bob"]), 403), /only its owners/);
      assert.match(errorOf(await member("nobody", "reader"), 404), /user "nobody" does not exist/);
      assert.match(
        errorOf(await api(hub, "DELETE", "/orgs/acme/members/alice", { token: tokens["alice"] }), 409),
        /last owner/,
      );
      assert.deepEqual(ok(await api(hub, "GET", "/orgs/acme", { token: tokens["carol"] })), {
        name: "acme",
        members: [
          { handle: "alice", role: "owner" },
          { handle: "bob", role: "writer" },
          { handle: "carol", role: "reader" },
        ],
        callerMayManage: false,
      });
      assert.equal(
        ok<{ callerMayManage: boolean }>(await api(hub, "GET", "/orgs/acme", { token: tokens["alice"] }))
          .callerMayManage,
        true,
      );
      assert.match(
        errorOf(await api(hub, "GET", "/orgs/acme", { token: tokens["dave"] }), 403),
        /not a member/,
      );
      assert.match(
        errorOf(await api(hub, "GET", "/orgs/nope", { token: tokens["dave"] }), 404),
        /does not exist/,
      );
      ok(await member("dave", "reader"));
      ok(await api(hub, "DELETE", "/orgs/acme/members/dave", { token: tokens["alice"] }));
      assert.match(
        errorOf(await api(hub, "DELETE", "/orgs/acme/members/dave", { token: tokens["alice"] }), 404),
        /not a member/,
      );
      const me = ok<{ orgs: unknown[] }>(await api(hub, "GET", "/accounts/me", { token: tokens["bob"] }));
      assert.deepEqual(me.orgs, [{ name: "acme", role: "writer" }]);
    });

    it("user tokens are HS256 JWTs for 30 days; revocation holds from the next request", async () => {
      const created = ok<{ id: string; token: string; expiresAt: string }>(
        await api(hub, "POST", "/tokens", { token: tokens["bob"], body: { description: "laptop" } }),
        201,
      );
      issued.push(created.token);
      const [head = "", payload = ""] = created.token.split(".");
      assert.deepEqual(JSON.parse(Buffer.from(head, "base64url").toString()), { alg: "HS256", typ: "JWT" });
      const claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as Record<string, unknown>;
      assert.equal(claims["https://flox.dev/handle"], "bob");
      assert.equal(claims["jti"], created.id);
      assert.match(String(claims["sub"]), /^acc_/);
      assert.equal(Number(claims["exp"]) - Number(claims["iat"]), 30 * 24 * 3600);
      assert.equal(created.expiresAt, new Date(Number(claims["exp"]) * 1000).toISOString());
      assert.equal(
        ok<{ handle: string }>(await api(hub, "GET", "/accounts/me", { token: created.token })).handle,
        "bob",
      );
      const listed = ok<{ id: string; description: string | null; revoked: boolean }[]>(
        await api(hub, "GET", "/tokens", { token: created.token }),
      );
      assert.deepEqual(
        listed.map((t) => [t.description, t.revoked]),
        [
          ["created by imageless hub user create", false],
          ["laptop", false],
        ],
      );
      assert.match(
        errorOf(await api(hub, "DELETE", "/tokens/tok_other", { token: created.token }), 404),
        /not an unrevoked token/,
      );
      ok(await api(hub, "DELETE", `/tokens/${created.id}`, { token: tokens["bob"] }));
      const revoked = errorOf(await api(hub, "GET", "/accounts/me", { token: created.token }), 401);
      assert.match(revoked, new RegExp(`token ${created.id} was revoked at \\d{4}-\\d\\d-\\d\\dT`));
      assert.ok(!revoked.includes(created.token));
      const after = ok<{ id: string; revoked: boolean }[]>(
        await api(hub, "GET", "/tokens", { token: tokens["bob"] }),
      );
      assert.equal(after.find((t) => t.id === created.id)?.revoked, true);
    });

    it("an expired user token is refused with when it expired", async () => {
      const expired = await withStore(async (store) => {
        const bob = await store.accountByHandle("bob");
        assert.ok(bob);
        const backThen = Date.now() - 31 * 24 * 3600 * 1000;
        const service = createTokenService({
          store,
          secret: await loadOrCreateJwtSecret(hub.dataDir),
          now: () => backThen,
        });
        return service.issueUserToken(bob, "old");
      });
      issued.push(expired.token.reveal());
      const message = errorOf(await api(hub, "GET", "/accounts/me", { token: expired.token.reveal() }), 401);
      assert.equal(
        message,
        `token expired at ${new Date(expired.expiresAt ?? 0).toISOString()}: create a new one (imageless auth login)`,
      );
    });

    it("machine tokens act for their organisation until revoked; only owners make them", async () => {
      assert.match(
        errorOf(await api(hub, "POST", "/orgs/acme/tokens", { token: tokens["bob"] }), 403),
        /only its owners/,
      );
      const created = ok<{ id: string; token: string }>(
        await api(hub, "POST", "/orgs/acme/tokens", { token: tokens["alice"], body: { description: "ci" } }),
        201,
      );
      issued.push(created.token);
      assert.match(created.token, /^flox_mt_[A-Za-z0-9_-]{43}$/);
      assert.deepEqual(ok(await api(hub, "GET", "/accounts/me", { token: created.token })), {
        handle: "acme",
        kind: "org-token",
        admin: false,
        orgs: [{ name: "acme", role: "writer" }],
      });
      assert.equal(
        ok<Env>(await api(hub, "GET", "/environments/acme/api", { token: created.token })).name,
        "api",
      );
      assert.match(
        errorOf(await api(hub, "POST", "/tokens", { token: created.token }), 403),
        /machine token/,
      );
      const listed = ok<{ id: string; expiresAt: string | null }[]>(
        await api(hub, "GET", "/orgs/acme/tokens", { token: tokens["alice"] }),
      );
      assert.deepEqual(
        listed.map((t) => [t.id, t.expiresAt]),
        [[created.id, null]],
      );
      ok(await api(hub, "DELETE", `/orgs/acme/tokens/${created.id}`, { token: tokens["alice"] }));
      assert.match(
        errorOf(await api(hub, "GET", "/accounts/me", { token: created.token }), 401),
        /was revoked at/,
      );
    });

    it("GET /environments lists what the caller may read, filtered by owner and visibility", async () => {
      const names = async (path: string, token?: string) =>
        ok<Env[]>(await api(hub, "GET", path, token === undefined ? {} : { token })).map(
          (e) => `${e.owner}/${e.name}`,
        );
      assert.deepEqual(await names("/environments"), []);
      assert.deepEqual(await names("/environments", tokens["alice"]), [
        "acme/api",
        "alice/notes",
        "alice/web",
      ]);
      assert.deepEqual(await names("/environments", tokens["carol"]), ["acme/api"]);
      assert.deepEqual(await names("/environments", tokens["dave"]), []);
      assert.deepEqual(await names("/environments?owner=alice", tokens["admin"]), [
        "alice/notes",
        "alice/web",
      ]);
      assert.deepEqual(await names("/environments?visibility=public", tokens["alice"]), []);
      assert.match(
        errorOf(await api(hub, "GET", "/environments?visibility=secret"), 400),
        /use "public" or "private"/,
      );
      const web = ok<Env[]>(
        await api(hub, "GET", "/environments?owner=alice", { token: tokens["alice"] }),
      ).find((e) => e.name === "web");
      assert.deepEqual(
        { ...web, updatedAt: undefined },
        {
          owner: "alice",
          name: "web",
          visibility: "private",
          liveGeneration: 3,
          totalGenerations: 3,
          updatedAt: undefined,
        },
      );
    });

    it("GET /environments/:owner/:name shows packages with versions per system, vars, hook and profile", async (t) => {
      type Detail = Env & {
        generation: number;
        packages: unknown[];
        vars: object;
        hook: object;
        profile: object;
      };
      const live = ok<Detail>(await api(hub, "GET", "/environments/alice/web", { token: tokens["alice"] }));
      assert.equal(live.generation, 3);
      assert.deepEqual(live.packages, [
        {
          installId: "clang",
          pkgPath: "clang",
          version: "21.1.8",
          priority: 5,
          systems: ["aarch64-darwin", "x86_64-darwin"],
        },
        {
          installId: "gcc",
          pkgPath: "gcc",
          version: "15.2.0",
          priority: 5,
          systems: ["aarch64-linux", "x86_64-linux"],
        },
        {
          installId: "go",
          pkgPath: "go",
          version: "1.26.4",
          priority: 5,
          systems: ["aarch64-darwin", "aarch64-linux", "x86_64-darwin", "x86_64-linux"],
        },
      ]);
      const second = ok<Detail>(
        await api(hub, "GET", "/environments/alice/web?generation=2", { token: tokens["alice"] }),
      );
      assert.equal(second.liveGeneration, 3);
      // What the caller may do, so the web UI offers only that: alice owns it; admins administer anything.
      assert.deepEqual((live as { callerMay?: unknown }).callerMay, { write: true, administer: true });
      assert.deepEqual(second.vars, { GREETING: "hi", TARGET: "${GREETING} there" });
      assert.deepEqual(second.hook, { onActivate: "echo activated" });
      assert.deepEqual(second.profile, { common: "echo common", bash: "echo bash" });
      assert.deepEqual(second.packages, [
        {
          installId: "hello",
          pkgPath: "hello",
          version: "2.12.3",
          priority: 5,
          systems: ["aarch64-darwin", "aarch64-linux", "x86_64-darwin", "x86_64-linux"],
        },
      ]);
      const noLock = ok<Detail>(
        await api(hub, "GET", "/environments/alice/notes", { token: tokens["alice"] }),
      );
      assert.deepEqual(noLock.packages, []);
      assert.match(
        errorOf(
          await api(hub, "GET", "/environments/alice/web?generation=9", { token: tokens["alice"] }),
          404,
        ),
        /generations are 1, 2, 3/,
      );
      assert.match(
        errorOf(
          await api(hub, "GET", "/environments/alice/web?generation=x", { token: tokens["alice"] }),
          400,
        ),
        /"x"/,
      );
      assert.match(
        errorOf(await api(hub, "GET", "/environments/alice/web"), 401),
        /not public or does not exist/,
      );
      assert.match(
        errorOf(await api(hub, "GET", "/environments/alice/web", { token: tokens["dave"] }), 404),
        /"dave" may not read it/,
      );
      assert.match(
        errorOf(await api(hub, "GET", "/environments/alice/nope", { token: tokens["alice"] }), 404),
        /does not exist/,
      );
      assert.match(
        errorOf(await api(hub, "GET", "/environments/alice/..x", { token: tokens["alice"] }), 400),
        /not accepted/,
      );
      // Measured: sequential show requests (the tip read through the hub's running git cat-file) against this database.
      const started = performance.now();
      for (let i = 0; i < 40; i++)
        ok(await api(hub, "GET", "/environments/alice/web", { token: tokens["alice"] }));
      t.diagnostic(
        `${database}: GET /environments/alice/web mean ${((performance.now() - started) / 40).toFixed(1)} ms`,
      );
    });

    it("generations and history come from metadata.json: who, where, when, what", async () => {
      type Gen = {
        generation: number;
        live: boolean;
        created?: number;
        lastLive?: number;
        author?: string;
        description?: string;
      };
      // carol is a reader of acme, not of alice: alice's private environment is hidden from her.
      errorOf(await api(hub, "GET", "/environments/alice/web/generations", { token: tokens["carol"] }), 404);
      const gens = ok<Gen[]>(
        await api(hub, "GET", "/environments/alice/web/generations", { token: tokens["alice"] }),
      );
      assert.deepEqual(
        gens.map((g) => [g.generation, g.live, g.author, g.description]),
        [
          [1, false, "fixture", "created environment"],
          [2, false, "fixture", "edited the manifest"],
          [3, true, "fixture", "edited the manifest"],
        ],
      );
      assert.ok(gens.every((g) => typeof g.created === "number"));
      assert.equal(typeof gens[0]?.lastLive, "number");
      assert.equal(gens[2]?.lastLive, undefined);
      type Hist = {
        kind: string;
        author: string;
        hostname: string;
        timestamp: number;
        currentGeneration: number;
        previousGeneration?: number;
        summary?: string;
        command?: string[];
      };
      const history = ok<Hist[]>(
        await api(hub, "GET", "/environments/acme/api/history", { token: tokens["carol"] }),
      );
      assert.deepEqual(
        history.map((h) => [
          h.kind,
          h.author,
          h.hostname,
          h.currentGeneration,
          h.previousGeneration,
          h.command,
        ]),
        [
          ["initialize", "fixture", "test", 1, undefined, ["flox", "push"]],
          ["edit", "fixture", "test", 2, 1, ["flox", "push"]],
        ],
      );
      assert.ok(history.every((h) => Math.abs(h.timestamp - Date.now() / 1000) < 3600));
    });

    it("switch and rollback add a switch_generation entry on the branch and no generation", async () => {
      const repo = floxmetaPath(join(hub.dataDir, "git"), "alice");
      const tipBefore = (await runGit(["--git-dir", repo, "rev-parse", "refs/heads/web"])).stdout
        .toString()
        .trim();
      assert.match(
        errorOf(await api(hub, "POST", "/environments/alice/web/switch", { body: { generation: 1 } }), 401),
        /token/,
      );
      const switched = ok<{
        kind: string;
        author: string;
        currentGeneration: number;
        previousGeneration: number;
        summary: string;
      }>(
        await api(hub, "POST", "/environments/alice/web/switch", {
          token: tokens["alice"],
          body: { generation: 1 },
        }),
      );
      assert.deepEqual(
        { ...switched, timestamp: undefined, hostname: undefined },
        {
          kind: "switch_generation",
          author: "alice",
          hostname: undefined,
          timestamp: undefined,
          currentGeneration: 1,
          previousGeneration: 3,
          summary: "changed current generation 3 -> 1",
        },
      );
      const git = async (...args: string[]) =>
        (await runGit(["--git-dir", repo, ...args])).stdout.toString().trim();
      assert.equal(await git("rev-parse", "refs/heads/web^"), tipBefore);
      assert.equal(
        await git("diff-tree", "--no-commit-id", "--name-only", "-r", tipBefore, "refs/heads/web"),
        "metadata.json",
      );
      assert.equal(await git("log", "-1", "--format=%s", "refs/heads/web"), "Set current generation to 1");
      const meta = JSON.parse(await git("cat-file", "blob", "refs/heads/web:metadata.json")) as {
        total_generations: number;
        history: { kind: string }[];
      };
      assertSchemaRequiredFields(meta);
      assert.equal(meta.total_generations, 3);
      const summary = () =>
        api(hub, "GET", "/environments?owner=alice", { token: tokens["alice"] }).then((a) =>
          ok<Env[]>(a).find((e) => e.name === "web"),
        );
      assert.deepEqual([(await summary())?.liveGeneration, (await summary())?.totalGenerations], [1, 3]);

      assert.match(
        errorOf(
          await api(hub, "POST", "/environments/alice/web/switch", {
            token: tokens["alice"],
            body: { generation: 1 },
          }),
          409,
        ),
        /already live/,
      );
      assert.match(
        errorOf(
          await api(hub, "POST", "/environments/alice/web/switch", {
            token: tokens["alice"],
            body: { generation: 7 },
          }),
          404,
        ),
        /generations 1 to 3/,
      );
      assert.match(
        errorOf(
          await api(hub, "POST", "/environments/alice/web/switch", { token: tokens["alice"], body: {} }),
          400,
        ),
        /generation/,
      );

      // Rollback returns to the previously live generation (1), not to live - 1 (2).
      ok(
        await api(hub, "POST", "/environments/alice/web/switch", {
          token: tokens["alice"],
          body: { generation: 3 },
        }),
      );
      const rolled = ok<{ currentGeneration: number; previousGeneration: number }>(
        await api(hub, "POST", "/environments/alice/web/rollback", { token: tokens["alice"] }),
      );
      assert.deepEqual([rolled.currentGeneration, rolled.previousGeneration], [1, 3]);
      const history = ok<{ kind: string; currentGeneration: number }[]>(
        await api(hub, "GET", "/environments/alice/web/history", { token: tokens["alice"] }),
      );
      assert.deepEqual(
        history.slice(-3).map((h) => [h.kind, h.currentGeneration]),
        [
          ["switch_generation", 1],
          ["switch_generation", 3],
          ["switch_generation", 1],
        ],
      );
      assert.equal((await summary())?.totalGenerations, 3);

      // Roles in an organisation: writers switch, readers may not.
      assert.match(
        errorOf(await api(hub, "POST", "/environments/acme/api/rollback", { token: tokens["carol"] }), 403),
        /writer or owner role/,
      );
      const byWriter = ok<{ author: string; currentGeneration: number }>(
        await api(hub, "POST", "/environments/acme/api/rollback", { token: tokens["bob"] }),
      );
      assert.deepEqual([byWriter.author, byWriter.currentGeneration], ["bob", 1]);
    });

    it("visibility: owners make an environment public; then anyone reads it, nobody else changes it", async () => {
      const set = (visibility: unknown, token?: string) =>
        api(hub, "PUT", "/environments/acme/api/visibility", {
          ...(token === undefined ? {} : { token }),
          body: { visibility },
        });
      assert.match(errorOf(await set("public", tokens["bob"]), 403), /only "acme" or its owners/);
      assert.match(errorOf(await set("open", tokens["alice"]), 400), /use "public" or "private"/);
      ok(await set("public", tokens["alice"]));
      const anonymous = ok<Env[]>(await api(hub, "GET", "/environments"));
      assert.deepEqual(
        anonymous.map((e) => [e.owner, e.name, e.visibility]),
        [["acme", "api", "public"]],
      );
      assert.equal(ok<Env>(await api(hub, "GET", "/environments/acme/api")).visibility, "public");
      const may = async (token?: string) =>
        (
          ok(await api(hub, "GET", "/environments/acme/api", token === undefined ? {} : { token })) as {
            callerMay: unknown;
          }
        ).callerMay;
      assert.deepEqual(await may(), { write: false, administer: false });
      assert.deepEqual(await may(tokens["bob"]), { write: true, administer: false });
      assert.deepEqual(await may(tokens["alice"]), { write: true, administer: true });
      assert.match(errorOf(await set("private"), 401), /needs a token/);
      assert.match(errorOf(await set("private", tokens["dave"]), 403), /only "acme" or its owners/);
      assert.match(
        errorOf(await api(hub, "POST", "/environments/acme/api/rollback", { token: tokens["dave"] }), 403),
        /writer or owner/,
      );
      assert.deepEqual(
        ok<Env[]>(await api(hub, "GET", "/environments?visibility=private", { token: tokens["alice"] })).map(
          (e) => e.name,
        ),
        ["notes", "web"],
      );
      ok(await set("private", tokens["admin"]));
      assert.equal(ok<Env[]>(await api(hub, "GET", "/environments")).length, 0);
    });

    it("concurrent switches of one environment all land: compare-and-swap on the ref loses none", async () => {
      const before = ok<unknown[]>(
        await api(hub, "GET", "/environments/alice/web/history", { token: tokens["alice"] }),
      ).length;
      const answers = await Promise.all(
        [2, 3, 2, 3, 2, 3].map((generation) =>
          api(hub, "POST", "/environments/alice/web/switch", {
            token: tokens["alice"],
            body: { generation },
          }),
        ),
      );
      // A switch to the generation that is live by the time it runs is refused (409); every other lands.
      assert.ok(
        answers.every((a) => a.status === 200 || a.status === 409),
        JSON.stringify(answers.map((a) => a.body)),
      );
      const landed = answers.filter((a) => a.status === 200).length;
      assert.ok(landed >= 1);
      const history = ok<{ currentGeneration: number; previousGeneration: number }[]>(
        await api(hub, "GET", "/environments/alice/web/history", { token: tokens["alice"] }),
      );
      assert.equal(history.length, before + landed);
      // Each entry's previous generation is the one live before it: no entry was written on a stale tip.
      for (let i = before; i < history.length; i++) {
        assert.equal(history[i]?.previousGeneration, history[i - 1]?.currentGeneration);
      }
    });

    it("an environment pushed over git is indexed private and readable through the API", async () => {
      const source = await makeTempDir("hub-push");
      try {
        await writeFloxmeta(source, "dave", [
          { name: "tools", generations: [conformance("hello"), conformance("go_gcc")] },
        ]);
        const remote = `${hub.url}/git/dave/floxmeta`;
        await runGit(["--git-dir", floxmetaPath(source, "dave"), "push", remote, "tools:tools"], {
          token: new Secret(tokens["dave"] ?? ""),
          authUrl: hub.url,
        });
      } finally {
        await removeTree(source);
      }
      const listed = ok<Env[]>(await api(hub, "GET", "/environments?owner=dave", { token: tokens["dave"] }));
      assert.deepEqual(
        listed.map((e) => [e.name, e.visibility, e.liveGeneration, e.totalGenerations]),
        [["tools", "private", 2, 2]],
      );
      assert.equal(
        ok<Env[]>(await api(hub, "GET", "/environments?owner=dave", { token: tokens["bob"] })).length,
        0,
      );
      const rolled = ok<{ currentGeneration: number }>(
        await api(hub, "POST", "/environments/dave/tools/rollback", { token: tokens["dave"] }),
      );
      assert.equal(rolled.currentGeneration, 1);
    });

    it("imageless hub org|token commands call the API with the caller's token", async () => {
      const as = (who: string) => ["--hub", hub.url, "--token", tokens[who] ?? ""];
      await cli("hub", "org", "create", "tools", ...as("carol"));
      await cli("hub", "org", "add-member", "tools", "dave", "--role", "writer", ...as("carol"));
      assert.equal(await cli("hub", "org", "list", "tools", ...as("dave")), "carol\towner\ndave\twriter");
      assert.equal(await cli("hub", "org", "list", ...as("dave")), "tools\twriter");
      await cli("hub", "org", "remove-member", "tools", "dave", ...as("carol"));
      const machine = await cli(
        "hub",
        "token",
        "create",
        "--org",
        "tools",
        "--description",
        "ci",
        ...as("carol"),
      );
      issued.push(machine);
      assert.match(machine, /^flox_mt_/);
      const [id] = (await cli("hub", "token", "list", "--org", "tools", ...as("carol"))).split("\t");
      await cli("hub", "token", "revoke", id ?? "", "--org", "tools", ...as("carol"));
      assert.match(await cli("hub", "token", "list", "--org", "tools", ...as("carol")), /\trevoked\tci$/);
      // A refusal is one line on stderr and the exit code of its kind (4: unauthorized).
      const refused = await cli("hub", "org", "add-member", "tools", "bob", ...as("dave")).then(
        () => assert.fail("dave is not an owner of tools"),
        (error: { code?: number; stderr?: string }) => error,
      );
      assert.equal(refused.code, 4);
      assert.match(
        refused.stderr ?? "",
        /^imageless: adding bob to tools: "dave" cannot manage members of organisation "tools": only its owners can \(HTTP 403\)\n$/,
      );
    });

    it("GET …/diff lists packages added, removed and upgraded, variables and scripts between two generations", async () => {
      const diff = (query: string, token = tokens["alice"]) =>
        api(hub, "GET", `/environments/alice/web/diff${query}`, token === undefined ? {} : { token });
      assert.deepEqual(ok(await diff("?from=1&to=2")), {
        from: 1,
        to: 2,
        packages: [],
        vars: [
          { name: "GREETING", change: "added", to: "hi" },
          { name: "TARGET", change: "added", to: "${GREETING} there" },
        ],
        scripts: [
          { script: "hook.on-activate", to: "echo activated" },
          { script: "profile.bash", to: "echo bash" },
          { script: "profile.common", to: "echo common" },
        ],
      });
      assert.deepEqual(ok(await diff("?from=3&to=1")), {
        from: 3,
        to: 1,
        packages: [
          { installId: "clang", change: "removed", from: "21.1.8" },
          { installId: "gcc", change: "removed", from: "15.2.0" },
          { installId: "go", change: "removed", from: "1.26.4" },
          { installId: "hello", change: "added", to: "2.12.3" },
        ],
        vars: [],
        scripts: [],
      });
      // Without `to`, the live generation; the typed client parses the same answer.
      const client = new HubApiClient({ hubUrl: hub.url, token: new Secret(tokens["alice"] ?? "") });
      const live = ok<Env>(await api(hub, "GET", "/environments/alice/web", { token: tokens["alice"] }));
      assert.deepEqual(
        await client.diff({ owner: "alice", name: "web" }, 1),
        ok(await diff(`?from=1&to=${live.liveGeneration}`)),
      );
      assert.match(
        errorOf(await diff("?from=0&to=1"), 400),
        /^from "0" is not accepted: use a generation number ≥ 1$/,
      );
      assert.match(errorOf(await diff(""), 400), /^query parameter from is missing: use \?from=N&to=M$/);
      assert.match(
        errorOf(await diff("?from=1&to=9"), 404),
        /generation 9 does not exist: its generations are 1, 2, 3/,
      );
      assert.match(
        errorOf(await diff("?from=1&to=2", tokens["bob"]), 404),
        /does not exist or "bob" may not read it/,
      );
      assert.match(
        errorOf(await api(hub, "GET", "/environments/alice/web/diff?from=1&to=2"), 401),
        /send a token/,
      );
    });

    it("DELETE /environments/:owner/:name: owners only; removes the branch and index row; audited", async () => {
      await writeFloxmeta(join(hub.dataDir, "git"), "alice", [
        { name: "scratch", generations: [conformance("hello"), conformance("bash")] },
      ]);
      await withStore((store) => createEnvironmentIndex(store, Date.now).recordPush("alice", "scratch"));
      const repo = floxmetaPath(join(hub.dataDir, "git"), "alice");
      const tip = (await runGit(["--git-dir", repo, "rev-parse", "refs/heads/scratch"])).stdout
        .toString()
        .trim();
      const remove = (token?: string) =>
        api(hub, "DELETE", "/environments/alice/scratch", token === undefined ? {} : { token });
      assert.match(errorOf(await remove(), 401), /send a token/);
      assert.match(errorOf(await remove(tokens["bob"]), 404), /does not exist or "bob" may not read it/);
      // A writer of acme may change acme's environments but not delete them.
      assert.match(
        errorOf(await api(hub, "DELETE", "/environments/acme/api", { token: tokens["bob"] }), 403),
        /^"bob" cannot delete "acme\/api": only "acme" or its owners can$/,
      );
      assert.deepEqual(ok(await remove(tokens["alice"])), { owner: "alice", name: "scratch", deleted: true });
      const branches = (
        await runGit(["--git-dir", repo, "for-each-ref", "--format=%(refname)"])
      ).stdout.toString();
      assert.deepEqual(branches.trim().split("\n").sort(), ["refs/heads/notes", "refs/heads/web"]);
      assert.equal(await withStore((store) => store.environment("alice", "scratch")), undefined);
      assert.deepEqual(
        ok<Env[]>(await api(hub, "GET", "/environments?owner=alice", { token: tokens["alice"] })).map(
          (e) => e.name,
        ),
        ["notes", "web"],
      );
      assert.match(errorOf(await remove(tokens["alice"]), 404), /does not exist or "alice" may not read it/);
      const client = new HubApiClient({ hubUrl: hub.url, token: new Secret(tokens["alice"] ?? "") });
      const events = await client.audit("alice");
      assert.deepEqual(
        events.map((e) => [e.actor, e.action, e.target, e.detail]),
        [["alice", "environment.deleted", "alice/scratch", `branch tip ${tip}, 2 generations, live 2`]],
      );
      assert.match(
        errorOf(await api(hub, "GET", "/audit?owner=alice", { token: tokens["bob"] }), 403),
        /only "alice" or its owners/,
      );
      assert.match(
        errorOf(await api(hub, "GET", "/audit", { token: tokens["alice"] }), 400),
        /owner is missing/,
      );
      assert.match(
        hub.log(),
        /"event":"hub\.environment\.deleted"[^\n]*"env":"alice\/scratch"[^\n]*"by":"alice"/,
      );
      // The name is free again: a new push makes a new, private environment.
      await writeFloxmeta(join(hub.dataDir, "git"), "alice", [
        { name: "scratch", generations: [conformance("hello")] },
      ]);
      await withStore((store) => createEnvironmentIndex(store, Date.now).recordPush("alice", "scratch"));
      assert.equal(
        ok<Env>(await api(hub, "GET", "/environments/alice/scratch", { token: tokens["alice"] }))
          .totalGenerations,
        1,
      );
      await new HubApiClient({ hubUrl: hub.url, token: new Secret(hub.adminToken) }).deleteEnvironment({
        owner: "alice",
        name: "scratch",
      });
      assert.equal((await client.audit("alice")).at(-1)?.actor, "admin");
      // An index row whose branch is gone (a failure between the two steps) is removed by deleting again.
      await withStore((store) => createEnvironmentIndex(store, Date.now).recordPush("alice", "ghost"));
      ok(await api(hub, "DELETE", "/environments/alice/ghost", { token: tokens["alice"] }));
      assert.equal(
        (await client.audit("alice")).at(-1)?.detail,
        "index row only (its branch was already gone)",
      );
    });

    it("the hub's remembered lookups never outlive a change: revocation, visibility and a switch hold from the next request", async () => {
      // Every container start asks for the ref advertisement; the hub remembers tokens, views and
      // tips (db/memo-store.ts, git/branch-tips-cache.ts). Each lookup is sent twice before a change,
      // so the second is answered from what the hub remembered.
      const advertised = async (token: string) => {
        const response = await fetch(`${hub.url}/git/alice/floxmeta/info/refs?service=git-upload-pack`, {
          headers: { authorization: `Basic ${Buffer.from(`oauth:${token}`).toString("base64")}` },
        });
        const body = await response.text();
        const tips = [...body.matchAll(/([0-9a-f]{40}) refs\/heads\/([^\0\n]+)/g)].map(
          (m) => `${m[2]} ${m[1]}`,
        );
        return { status: response.status, tips };
      };
      const twice = async (token: string) => {
        await advertised(token);
        return advertised(token);
      };
      const repo = floxmetaPath(join(hub.dataDir, "git"), "alice");
      const tip = async () =>
        (await runGit(["--git-dir", repo, "rev-parse", "refs/heads/web"])).stdout.toString().trim();
      const notes = (await runGit(["--git-dir", repo, "rev-parse", "refs/heads/notes"])).stdout
        .toString()
        .trim();
      // Ref files changed less than 100 ms ago are re-read on every request (branch-tips-cache.ts):
      // wait that long, so the lookups below are answered from the remembered listing.
      const settle = () => new Promise((resolve) => setTimeout(resolve, 150));

      const laptop = ok<{ id: string; token: string }>(
        await api(hub, "POST", "/tokens", { token: tokens["bob"], body: { description: "node" } }),
        201,
      );
      issued.push(laptop.token);
      const setVisibility = async (visibility: string) =>
        ok(
          await api(hub, "PUT", "/environments/alice/web/visibility", {
            token: tokens["alice"],
            body: { visibility },
          }),
        );

      await setVisibility("public");
      await settle();
      assert.deepEqual(await twice(laptop.token), { status: 200, tips: [`web ${await tip()}`] });
      assert.equal(
        ok<Env>(await api(hub, "GET", "/environments/alice/web", { token: laptop.token })).name,
        "web",
      );
      await setVisibility("private");
      assert.deepEqual(await advertised(laptop.token), { status: 403, tips: [] });
      errorOf(await api(hub, "GET", "/environments/alice/web", { token: laptop.token }), 404);

      await setVisibility("public");
      await twice(laptop.token);
      ok(await api(hub, "DELETE", `/tokens/${laptop.id}`, { token: tokens["bob"] }));
      assert.deepEqual(await advertised(laptop.token), { status: 401, tips: [] });
      errorOf(await api(hub, "GET", "/environments/alice/web", { token: laptop.token }), 401);

      const before = await tip();
      assert.deepEqual(await twice(tokens["alice"] ?? ""), {
        status: 200,
        tips: [`notes ${notes}`, `web ${before}`],
      });
      const live = ok<Env>(
        await api(hub, "GET", "/environments/alice/web", { token: tokens["alice"] }),
      ).liveGeneration;
      ok(
        await api(hub, "POST", "/environments/alice/web/switch", {
          token: tokens["alice"],
          body: { generation: live === 1 ? 2 : 1 },
        }),
      );
      const after = await tip();
      assert.notEqual(after, before);
      assert.deepEqual(await advertised(tokens["alice"] ?? ""), {
        status: 200,
        tips: [`notes ${notes}`, `web ${after}`],
      });
      assert.equal(
        ok<Env>(await api(hub, "GET", "/environments/alice/web", { token: tokens["alice"] })).liveGeneration,
        live === 1 ? 2 : 1,
      );
      await setVisibility("private");
    });

    it("tokens exist only as SHA-256 hashes: not in the database, not in the log", async () => {
      assert.ok(issued.length >= 8);
      const rows = await withStore(async () => {
        const { openPostgresDriver } = await import("../../src/hub/db/postgres-driver.js");
        const { openSqliteDriver } = await import("../../src/hub/db/sqlite-driver.js");
        const driver =
          databaseUrl === undefined
            ? openSqliteDriver(join(hub.dataDir, "hub.sqlite"))
            : openPostgresDriver(databaseUrl);
        try {
          const all: unknown[] = [];
          for (const table of [
            "accounts",
            "memberships",
            "tokens",
            "environments",
            "audit_events",
            "schema_migrations",
          ]) {
            all.push(...(await driver.all(`SELECT * FROM ${table}`)));
          }
          return JSON.stringify(all);
        } finally {
          await driver.close();
        }
      });
      assert.match(rows, /"hash":"[0-9a-f]{64}"/);
      const files =
        databaseUrl === undefined
          ? Buffer.concat(
              await Promise.all(
                ["hub.sqlite", "hub.sqlite-wal"].map((f) =>
                  readFile(join(hub.dataDir, f)).catch(() => Buffer.alloc(0)),
                ),
              ),
            ).toString("latin1")
          : "";
      for (const token of issued) {
        const signature = token.includes(".") ? (token.split(".")[2] ?? token) : token;
        assert.ok(!rows.includes(signature), "a token's text is in the database");
        assert.ok(!files.includes(signature), "a token's text is in the SQLite files");
        assert.ok(!hub.log().includes(signature), "a token's text is in the hub's log");
      }
    });
  });
}
