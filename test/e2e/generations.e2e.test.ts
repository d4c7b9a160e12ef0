import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fixtureGeneration, helloGeneration } from "../harness/flox-envs.js";
import { EMPTY_IMAGE_REF, FLOX_HANDLER, type FloxNode, startFloxNode } from "../harness/flox-node.js";
import { addGeneration, switchLive, writeFloxmeta } from "../harness/floxmeta-fixture.js";
import { type GitHttpServer, serveGit } from "../harness/git-http-server.js";
import { buildFixturePackages, type Fixtures } from "../harness/nix-fixtures.js";
import { runToCompletion } from "../harness/pod.js";
import { makeTempDir, removeTree } from "../harness/temp.js";

let node: FloxNode;
let git: GitHttpServer;
let work: string;
let fixtures: Fixtures;
const root = () => join(work, "floxmeta");

/** Runs `hello` from `env`; its output, or the start error. */
async function hello(name: string, env: string): Promise<{ output?: string; error?: string }> {
  const result = await runToCompletion(node.cri, {
    name,
    runtimeHandler: FLOX_HANDLER,
    annotations: { "flox.dev/environment": env },
    logDir: node.logDir,
    containers: [{ name: "app", image: EMPTY_IMAGE_REF, command: ["hello"] }],
  });
  if (result.error !== undefined) return { error: result.error };
  assert.equal(result.exitCode, 0);
  return { output: result.output ?? "" };
}

before(async () => {
  work = await makeTempDir("generations");
  fixtures = await buildFixturePackages(join(work, "fixtures"));
  const { hello: h1, hello2, coreutils } = fixtures.packages;
  await writeFloxmeta(root(), "acme", [
    {
      name: "web",
      generations: [helloGeneration({ hello: h1, coreutils }), helloGeneration({ hello: hello2, coreutils })],
    },
  ]);
  git = await serveGit(root());
  node = await startFloxNode({ gitUrl: git.url, fixtures });
});

after(async () => {
  await node?.stop();
  await git?.close();
  await removeTree(work);
});

describe("generations at each container start", () => {
  it("runs the live generation for an unpinned ref", async () => {
    assert.deepEqual(await hello("gen-live-2", "acme/web"), { output: "Hello, world! (v2)" });
  });

  it("follows a new generation pushed after the last start", async () => {
    await addGeneration(
      root(),
      "acme",
      "web",
      fixtureGeneration([{ installId: "hello", path: fixtures.packages["hello-other"] }]),
    );
    assert.deepEqual(await hello("gen-live-3", "acme/web"), { output: "Hello from hello-other" });
  });

  it("follows switch_generation back to an older generation", async () => {
    await switchLive(root(), "acme", "web", 1);
    assert.deepEqual(await hello("gen-live-back-1", "acme/web"), { output: "Hello, world!" });
  });

  it("runs exactly the pinned generation, whatever is live", async () => {
    assert.deepEqual(await hello("gen-pinned-2", "acme/web:2"), { output: "Hello, world! (v2)" });
    assert.deepEqual(await hello("gen-pinned-3", "acme/web:3"), { output: "Hello from hello-other" });
  });

  it("does not refetch when the live generation has not moved", async () => {
    const before = git.requests();
    assert.deepEqual(await hello("gen-live-again", "acme/web"), { output: "Hello, world!" });
    // ls-remote is two requests (info/refs and the ls-refs command); a fetch would add more.
    assert.ok(git.requests() - before <= 2, `requests: ${git.requests() - before}`);
  });

  it("fails a generation that does not exist, naming the ones that do", async () => {
    const { error } = await hello("gen-missing", "acme/web:9");
    assert.match(
      error ?? "",
      /OCI runtime create failed: imageless: environment 'acme\/web:9': generation 9 does not exist: existing generations: 1, 2, 3/,
    );
  });
});
