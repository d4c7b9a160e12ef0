/**
 * `imageless node status` and `imageless node gc` on a node with one running Flox container and
 * one environment no container uses any more: gc frees the unused one (and reports its bytes) and
 * never touches what the running container holds, which keeps running.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { useFloxNode } from "../harness/e2e-node.js";
import { fixtureGeneration, helloGeneration } from "../harness/flox-envs.js";
import { EMPTY_IMAGE_REF, FLOX_HANDLER, runFloxPod } from "../harness/flox-node.js";
import { removePod, runToCompletion } from "../harness/pod.js";
import { repoRoot } from "../harness/repo-root.js";

const run = promisify(execFile);

async function imageless(args: readonly string[]): Promise<unknown> {
  const { stdout } = await run(join(repoRoot(), "bin", "imageless"), [...args], {
    env: { ...process.env, IMAGELESS_CONFIG: e2e.node.configPath },
  });
  return JSON.parse(stdout);
}

const present = (path: string) =>
  stat(join(e2e.node.storeRoot, path)).then(
    () => true,
    () => false,
  );

const e2e = useFloxNode("node-gc", {
  environments: ({ packages }) => [
    { name: "hello", generations: [helloGeneration(packages)] },
    {
      name: "other",
      generations: [
        fixtureGeneration([
          { installId: "hello", path: packages["hello-other"] },
          { installId: "coreutils", path: packages.coreutils },
        ]),
      ],
    },
  ],
  // Anything unused is old enough: the test is about in use versus not.
  node: () => ({ extraConfig: '[gc]\nkeep-unused = "0s"\n' }),
});

interface StatusJson {
  environments: {
    refs: string[];
    storePath: string;
    containers: { name: string }[];
    closureBytes?: number;
  }[];
  diskBytes: number;
}

describe("imageless node gc", () => {
  it("frees the environment no container uses, reports its bytes, and keeps the running one running", async () => {
    const logDir = join(e2e.node.dir, "pod-logs");
    const server = await runFloxPod(e2e.node.cri, {
      name: "server",
      annotations: { "flox.dev/environment": "acme/hello" },
      command: ["sleep", "600"],
      logDir,
    });
    try {
      assert.deepEqual(server.startErrors, {});
      const app = server.containers["app"] ?? "";
      const once = await runToCompletion(e2e.node.cri, {
        name: "once",
        runtimeHandler: FLOX_HANDLER,
        annotations: { "flox.dev/environment": "acme/other" },
        logDir,
        containers: [{ name: "job", image: EMPTY_IMAGE_REF, command: ["hello"] }],
      });
      assert.deepEqual(once, { output: "Hello from hello-other", exitCode: 0 });

      const status = (await imageless(["node", "status", "--json"])) as StatusJson;
      const inUse = status.environments.find((env) => env.refs.includes("acme/hello:1"));
      const unused = status.environments.find((env) => env.refs.length === 0);
      assert.equal(status.environments.length, 2);
      assert.deepEqual(
        inUse?.containers.map((c) => c.name),
        ["app"],
      );
      assert.deepEqual(unused?.containers, []);
      assert.ok((inUse?.closureBytes ?? 0) > 0 && (unused?.closureBytes ?? 0) > 0);
      const unusedPath = unused?.storePath ?? "";
      const inUsePath = inUse?.storePath ?? "";

      const gc = (await imageless(["node", "gc", "--json"])) as {
        freedProfiles: string[];
        deletedPaths: string[];
        freedBytes: number;
        inUse: number;
      };
      // The profile (with its .drv and generated files) and hello-other go; coreutils is shared with
      // the running environment and stays.
      assert.deepEqual(
        {
          ...gc,
          deletedPaths:
            gc.deletedPaths.some((p) => p === unusedPath) &&
            gc.deletedPaths.includes(e2e.fixtures.packages["hello-other"]),
          freedBytes: gc.freedBytes > 0,
        },
        { freedProfiles: [unusedPath], deletedPaths: true, freedBytes: true, inUse: 1 },
      );
      for (const kept of [inUsePath, e2e.fixtures.packages.hello, e2e.fixtures.packages.coreutils]) {
        assert.ok(!gc.deletedPaths.includes(kept), `${kept} was deleted`);
      }
      assert.deepEqual(
        {
          unused: await present(unusedPath),
          helloOther: await present(e2e.fixtures.packages["hello-other"]),
          inUse: await present(inUsePath),
          hello: await present(e2e.fixtures.packages.hello),
          coreutils: await present(e2e.fixtures.packages.coreutils),
        },
        { unused: false, helloOther: false, inUse: true, hello: true, coreutils: true },
      );

      // The running container still has its environment.
      const exec = await e2e.node.cri.execSync(app, ["hello"], 30);
      assert.deepEqual(
        { exitCode: exec.exitCode, stdout: exec.stdout.toString() },
        { exitCode: 0, stdout: "Hello, world!\n" },
      );
      const after = (await imageless(["node", "status", "--json"])) as StatusJson;
      assert.deepEqual(
        after.environments.map((env) => env.refs),
        [["acme/hello:1"]],
      );

      // A second collection finds nothing more to free.
      const again = (await imageless(["node", "gc", "--json"])) as {
        freedProfiles: string[];
        deletedPaths: string[];
      };
      assert.deepEqual([again.freedProfiles, again.deletedPaths], [[], []]);
    } finally {
      await removePod(e2e.node.cri, server.podId);
    }
  });
});
