import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { useFloxNode } from "../harness/e2e-node.js";
import { fixtureGeneration, helloGeneration } from "../harness/flox-envs.js";
import { EMPTY_IMAGE_REF, FLOX_HANDLER } from "../harness/flox-node.js";
import { addGeneration, switchLive } from "../harness/floxmeta-fixture.js";
import { runToCompletion } from "../harness/pod.js";

/** Runs `hello` from `env`; its output, or the start error. */
async function hello(name: string, env: string): Promise<{ output?: string; error?: string }> {
  const result = await runToCompletion(e2e.node.cri, {
    name,
    runtimeHandler: FLOX_HANDLER,
    annotations: { "flox.dev/environment": env },
    logDir: e2e.node.logDir,
    containers: [{ name: "app", image: EMPTY_IMAGE_REF, command: ["hello"] }],
  });
  if (result.error !== undefined) return { error: result.error };
  assert.equal(result.exitCode, 0);
  return { output: result.output ?? "" };
}

const e2e = useFloxNode("generations", {
  environments: ({ packages: { hello: h1, hello2, coreutils } }) => [
    {
      name: "web",
      generations: [helloGeneration({ hello: h1, coreutils }), helloGeneration({ hello: hello2, coreutils })],
    },
  ],
  serveGit: {},
});

describe("generations at each container start", () => {
  it("runs the live generation for an unpinned ref", async () => {
    assert.deepEqual(await hello("gen-live-2", "acme/web"), { output: "Hello, world! (v2)" });
  });

  it("follows a new generation pushed after the last start", async () => {
    await addGeneration(
      e2e.floxmetaRoot,
      "acme",
      "web",
      fixtureGeneration([{ installId: "hello", path: e2e.fixtures.packages["hello-other"] }]),
    );
    assert.deepEqual(await hello("gen-live-3", "acme/web"), { output: "Hello from hello-other" });
  });

  it("follows switch_generation back to an older generation", async () => {
    await switchLive(e2e.floxmetaRoot, "acme", "web", 1);
    assert.deepEqual(await hello("gen-live-back-1", "acme/web"), { output: "Hello, world!" });
  });

  it("runs exactly the pinned generation, whatever is live", async () => {
    assert.deepEqual(await hello("gen-pinned-2", "acme/web:2"), { output: "Hello, world! (v2)" });
    assert.deepEqual(await hello("gen-pinned-3", "acme/web:3"), { output: "Hello from hello-other" });
  });

  it("does not refetch when the live generation has not moved", async () => {
    const before = e2e.git.requests();
    assert.deepEqual(await hello("gen-live-again", "acme/web"), { output: "Hello, world!" });
    // ls-remote is two requests (info/refs and the ls-refs command); a fetch would add more.
    assert.ok(e2e.git.requests() - before <= 2, `requests: ${e2e.git.requests() - before}`);
  });

  it("fails a generation that does not exist, naming the ones that do", async () => {
    const { error } = await hello("gen-missing", "acme/web:9");
    assert.match(
      error ?? "",
      /OCI runtime create failed: imageless: environment 'acme\/web:9': generation 9 does not exist: existing generations: 1, 2, 3/,
    );
  });
});
