import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { parseLockfile } from "../../src/environment/lockfile.js";
import { ImagelessError } from "../../src/errors/imageless-error.js";
import { createResolveSession, resolveEnvironment } from "../../src/floxhub/resolve.js";
import { createLogger, nullLogger } from "../../src/log/logger.js";
import { Secret } from "../../src/log/secret.js";
import {
  addGeneration,
  assertSchemaRequiredFields,
  floxmetaPath,
  switchLive,
  writeFloxmeta,
} from "../harness/floxmeta-fixture.js";
import { serveGit } from "../harness/git-http-server.js";
import { floxFixturesDir } from "../harness/repo-root.js";
import { makeTempDir, removeTree } from "../harness/temp.js";

const run = promisify(execFile);
const envs = join(floxFixturesDir(), "envs");
const generation = (env: string) => ({
  manifestToml: readFileSync(join(envs, env, "manifest.toml"), "utf8"),
  lock: JSON.parse(readFileSync(join(envs, env, "manifest.lock"), "utf8")) as object,
});
const TOKEN = "flox_pat_s3cret-value-123";

/** `acme/web` with generations 1 (hello) and 2 (bash, live), and `acme/nolock` without a lock. */
const writeHub = (hub: string) =>
  writeFloxmeta(hub, "acme", [
    { name: "web", generations: [generation("hello"), generation("bash_v1_10_0_out")] },
    { name: "nolock", generations: [{ manifestToml: "version = 1\n", lock: undefined }] },
  ]);

let root: string;
before(async () => {
  root = await makeTempDir("floxhub");
  await writeHub(join(root, "hub"));
});
after(async () => {
  await removeTree(root);
});

let caches = 0;
const freshCache = () => join(root, "cache", String(++caches));

for (const [transport, withSession] of [
  ["file", false],
  ["http", false],
  ["http", true],
] as const) {
  describe(`resolveEnvironment() over ${transport}://${withSession ? " with a session (no git ls-remote)" : ""}`, () => {
    let gitBase: string;
    let server: Awaited<ReturnType<typeof serveGit>> | undefined;
    let cacheDir: string;
    let hub: string; // this suite's own repositories: it changes them
    before(async () => {
      cacheDir = freshCache();
      hub = join(root, `hub-${transport}-${withSession}`);
      await writeHub(hub);
      if (transport === "http") {
        server = await serveGit(hub);
        gitBase = server.url;
      } else {
        gitBase = `file://${hub}`;
      }
    });
    after(async () => {
      await server?.close();
    });
    const session = withSession ? createResolveSession() : undefined;
    const resolve = (ref: { owner: string; name: string; generation?: number }) =>
      resolveEnvironment(ref, { gitBase, cacheDir, log: nullLogger, ...(session ? { session } : {}) });

    it("resolves the live generation, fetching once, then only checks the tip", async () => {
      const first = await resolve({ owner: "acme", name: "web" });
      assert.equal(first.generation, 2);
      assert.equal(first.live, true);
      assert.equal(first.fetched, true);
      assert.equal(first.manifestText, generation("bash_v1_10_0_out").manifestToml);
      assert.equal(parseLockfile(first.lockText, "lock").packages.length, 3);
      const before = server?.requests() ?? 0;
      const second = await resolve({ owner: "acme", name: "web" });
      assert.equal(second.fetched, false);
      assert.equal(second.commit, first.commit);
      if (server !== undefined) assert.ok(server.requests() - before <= 2, "only the ls-remote round trip");
    });

    it("resolves a pinned generation from the cache without fetching", async () => {
      const pinned = await resolve({ owner: "acme", name: "web", generation: 1 });
      assert.equal(pinned.generation, 1);
      assert.equal(pinned.live, false);
      assert.equal(pinned.fetched, false);
      assert.equal(pinned.manifestText, generation("hello").manifestToml);
    });

    it("names the existing generations when the pinned one is missing", async () => {
      await assert.rejects(resolve({ owner: "acme", name: "web", generation: 7 }), (e: unknown) => {
        assert.ok(e instanceof ImagelessError);
        assert.equal(e.kind, "not-found");
        assert.equal(
          e.message,
          "environment 'acme/web:7': generation 7 does not exist: existing generations: 1, 2",
        );
        return true;
      });
    });

    for (const ref of [
      { owner: "acme", name: "nope" },
      { owner: "nobody", name: "web" },
    ]) {
      it(`says ${ref.owner}/${ref.name} is not found at the git base`, async () => {
        await assert.rejects(resolve(ref), (e: unknown) => {
          assert.ok(e instanceof ImagelessError, String(e));
          assert.equal(e.kind, "not-found");
          assert.equal(e.message, `environment '${ref.owner}/${ref.name}' not found at ${gitBase}`);
          return true;
        });
      });
    }

    it("says clearly when the generation has no lock", async () => {
      await assert.rejects(
        resolve({ owner: "acme", name: "nolock" }),
        /generation 1 of 'acme\/nolock' has no manifest\.lock/,
      );
    });

    it("follows switchLive and new generations on the next resolve", async () => {
      await switchLive(hub, "acme", "web", 1);
      const switched = await resolve({ owner: "acme", name: "web" });
      assert.equal(switched.generation, 1);
      assert.equal(switched.fetched, true);
      const n = await addGeneration(hub, "acme", "web", generation("pip"));
      assert.equal(n, 3);
      const added = await resolve({ owner: "acme", name: "web" });
      assert.deepEqual([added.generation, added.fetched], [3, true]);
    });

    if (withSession) {
      it("resolves a warm environment with no git process at all, concurrent starts sharing one request", async () => {
        const warm = await resolve({ owner: "acme", name: "web" });
        const before = server?.requests() ?? 0;
        const { result: all, calls } = await recordGitCalls(() =>
          Promise.all([1, 2, 3, 4, 5].map(() => resolve({ owner: "acme", name: "web" }))),
        );
        assert.deepEqual(
          all.map((env) => [env.generation, env.commit, env.fetched]),
          all.map(() => [warm.generation, warm.commit, false]),
        );
        assert.equal((server?.requests() ?? 0) - before, 1);
        assert.deepEqual(calls, ["http-backend"]); // the test server's, for the one ref advertisement
      });
    } else if (transport === "file") {
      it("reads a commit the node already has with one git process besides ls-remote", async () => {
        await resolve({ owner: "acme", name: "web" });
        const { result, calls } = await recordGitCalls(() => resolve({ owner: "acme", name: "web" }));
        assert.equal(result.fetched, false);
        assert.deepEqual(calls, ["ls-remote", "cat-file"]);
      });
    }
  });
}

/**
 * What `work` returns and the git subcommands run meanwhile by this process (a test server's
 * http-backend included), through a named fake in front of git that records each and runs the real one.
 */
async function recordGitCalls<T>(work: () => Promise<T>): Promise<{ result: T; calls: string[] }> {
  const bin = await mkdtemp(join(root, "recording-git-"));
  const log = join(bin, "calls.log");
  await writeFile(log, "");
  const script = `#!/bin/sh
skip=
for arg; do
  if [ -n "$skip" ]; then skip=; continue; fi
  case "$arg" in --git-dir|-c|-C) skip=1 ;; -*) ;; *) echo "$arg" >>'${log}'; break ;; esac
done
exec /usr/bin/git "$@"
`;
  await writeFile(join(bin, "git"), script, { mode: 0o755 });
  const path = process.env["PATH"];
  process.env["PATH"] = `${bin}:${path}`;
  try {
    const result = await work();
    return { result, calls: (await readFile(log, "utf8")).split("\n").filter((l) => l !== "") };
  } finally {
    process.env["PATH"] = path;
  }
}

describe("the fixture's metadata.json", () => {
  it("has every field Flox's v2 schema requires", async () => {
    const repo = floxmetaPath(join(root, "hub"), "acme");
    const { stdout } = await run("git", ["--git-dir", repo, "show", "web:metadata.json"]);
    const doc: unknown = JSON.parse(stdout);
    assertSchemaRequiredFields(doc);
    const { stdout: log } = await run("git", ["--git-dir", repo, "log", "--format=%s", "web"]);
    assert.deepEqual(log.trim().split("\n").slice(-3), [
      "Create generation 2",
      "Create generation 1",
      "Initialize generations branch for environment 'web'",
    ]);
  });
});

for (const withSession of [false, true]) {
  const sessionOpts = () => (withSession ? { session: createResolveSession() } : {});
  describe(`resolveEnvironment() with a token over http://${withSession ? " with a session" : ""}`, () => {
    let server: Awaited<ReturnType<typeof serveGit>>;
    before(async () => {
      server = await serveGit(join(root, "hub"), { requireToken: TOKEN });
    });
    after(async () => {
      await server.close();
    });

    it("sends the token as Basic oauth:<token> and never logs it", async () => {
      const lines: string[] = [];
      const log = createLogger((line) => lines.push(line));
      const env = await resolveEnvironment(
        { owner: "acme", name: "web" },
        { gitBase: server.url, cacheDir: freshCache(), token: new Secret(TOKEN), log, ...sessionOpts() },
      );
      assert.equal(env.generation, 2);
      assert.ok(lines.length > 0);
      assert.ok(!lines.join("").includes(TOKEN));
    });

    for (const [what, token] of [
      ["a wrong token", new Secret(`${TOKEN}-wrong`)],
      ["no token", undefined],
    ] as const) {
      it(`refuses ${what} as unauthorized, without the token in the error`, async () => {
        await assert.rejects(
          resolveEnvironment(
            { owner: "acme", name: "web" },
            {
              gitBase: server.url,
              cacheDir: freshCache(),
              ...(token ? { token } : {}),
              log: nullLogger,
              ...sessionOpts(),
            },
          ),
          (e: unknown) => {
            assert.ok(e instanceof ImagelessError);
            assert.equal(e.kind, "unauthorized");
            assert.match(
              e.message,
              /^environment 'acme\/web' at http:\/\/127\.0\.0\.1:\d+\/git: access denied/,
            );
            let text = "";
            for (let c: unknown = e; c instanceof Error; c = c.cause)
              text += `${c.message}\n${c.stack ?? ""}\n`;
            assert.ok(!text.includes(TOKEN), text);
            assert.ok(!text.includes(Buffer.from(`oauth:${TOKEN}-wrong`).toString("base64")));
            return true;
          },
        );
      });
    }
  });

  describe(`resolveEnvironment() with the hub down${withSession ? " with a session" : ""}`, () => {
    it("fails as unavailable", async () => {
      await assert.rejects(
        resolveEnvironment(
          { owner: "acme", name: "web" },
          { gitBase: "http://127.0.0.1:1/git", cacheDir: freshCache(), log: nullLogger, ...sessionOpts() },
        ),
        (e: unknown) =>
          e instanceof ImagelessError && e.kind === "unavailable" && /unreachable/.test(e.message),
      );
    });
  });
}

describe("resolveEnvironment() from two processes at once", () => {
  const script = `
    import { createResolveSession, resolveEnvironment } from ${JSON.stringify(new URL("../../src/floxhub/resolve.js", import.meta.url).href)};
    import { nullLogger } from ${JSON.stringify(new URL("../../src/log/logger.js", import.meta.url).href)};
    const [gitBase, cacheDir] = process.argv.slice(1);
    const env = await resolveEnvironment({ owner: "acme", name: "web" }, { gitBase, cacheDir, log: nullLogger });
    console.log(JSON.stringify({ generation: env.generation, commit: env.commit }));
  `;
  for (const transport of ["file", "http"]) {
    it(`both succeed on an empty cache (${transport}://, 3 rounds)`, async () => {
      const server = transport === "http" ? await serveGit(join(root, "hub")) : undefined;
      try {
        const gitBase = server?.url ?? `file://${join(root, "hub")}`;
        for (let round = 0; round < 3; round++) {
          const cacheDir = freshCache();
          const child = () => run(process.execPath, ["--input-type=module", "-e", script, gitBase, cacheDir]);
          const results = await Promise.all([child(), child()]);
          const parsed = results.map((r) => JSON.parse(r.stdout) as { generation: number; commit: string });
          assert.equal(parsed[0]?.generation, 2);
          assert.deepEqual(parsed[0], parsed[1]);
        }
      } finally {
        await server?.close();
      }
    });
  }
});

describe("handleGitHttp()", () => {
  const pushFrom = async (url: string, branch: string) => {
    const work = join(root, `work-${branch}`);
    await run("git", ["init", "--quiet", work]);
    await run("git", [
      "-C",
      work,
      "-c",
      "user.name=t",
      "-c",
      "user.email=t@t",
      "commit",
      "--quiet",
      "--allow-empty",
      "-m",
      "x",
    ]);
    return run("git", ["-C", work, "push", "--quiet", url, `HEAD:refs/heads/${branch}`], {
      env: { PATH: process.env["PATH"] ?? "", GIT_TERMINAL_PROMPT: "0", GIT_CONFIG_GLOBAL: "/dev/null" },
    });
  };

  it("refuses a push when pushes are not allowed", async () => {
    const server = await serveGit(join(root, "hub"));
    try {
      await assert.rejects(pushFrom(`${server.url}/acme/floxmeta`, "pushed"), /403/);
    } finally {
      await server.close();
    }
  });

  it("accepts a push when allowed", async () => {
    const { createServer } = await import("node:http");
    const { handleGitHttp } = await import("../../src/hub/git/git-http-backend.js");
    const hub = join(root, "hub");
    const server = createServer((req, res) => {
      const pathInfo = (req.url ?? "").split("?")[0]?.slice("/git".length) ?? "";
      void handleGitHttp(req, res, { projectRoot: hub, pathInfo, allowPush: true, remoteUser: "alice" });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const address = server.address();
      assert.ok(address !== null && typeof address === "object");
      await pushFrom(`http://127.0.0.1:${address.port}/git/acme/floxmeta`, "pushed");
      const { stdout } = await run("git", [
        "--git-dir",
        floxmetaPath(hub, "acme"),
        "branch",
        "--list",
        "pushed",
      ]);
      assert.match(stdout, /pushed/);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
