/**
 * `[runtime] mount = "closure"` (SPEC §6): a Flox container sees exactly its environment's closure
 * under /nix/store, no /nix/var (the node's Nix database), and no other environment's packages,
 * although they are on the node; with `nix-mutable` it may add to /nix but never change a package.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { queryClosure } from "../../src/nix/closure.js";
import type { StorePath } from "../../src/nix/store-path.js";
import { useFloxNode } from "../harness/e2e-node.js";
import { fixtureGeneration, helloGeneration } from "../harness/flox-envs.js";
import { EMPTY_IMAGE_REF, FLOX_HANDLER } from "../harness/flox-node.js";
import { setConfigKeys } from "../harness/node-config-edit.js";
import { runToCompletion } from "../harness/pod.js";

const e2e = useFloxNode("closure", {
  environments: ({ packages: { hello, coreutils, greeting } }) => [
    { name: "one", generations: [helloGeneration({ hello, coreutils })] },
    {
      name: "other",
      generations: [
        fixtureGeneration([
          { installId: "greeting", path: greeting },
          { installId: "coreutils", path: coreutils },
        ]),
      ],
    },
  ],
});

function run(name: string, env: string, script: string, annotations: Record<string, string> = {}) {
  return runToCompletion(e2e.node.cri, {
    name,
    runtimeHandler: FLOX_HANDLER,
    annotations: { "flox.dev/environment": env, ...annotations },
    logDir: e2e.node.logDir,
    containers: [{ name: "app", image: EMPTY_IMAGE_REF, command: ["sh", "-c", script] }],
  });
}

describe('[runtime] mount = "closure"', () => {
  it("shows the container exactly its closure, no /nix/var, and not another environment's package", async () => {
    // The other environment is on the node first (whole-store mount, the default).
    const other = await run("closure-other", "acme/other:1", "greet");
    assert.equal(other.exitCode, 0, other.error);
    await setConfigKeys(e2e.node.configPath, "runtime", { mount: "closure" });
    try {
      const greeting = e2e.fixtures.packages.greeting;
      const result = await run(
        "closure-one",
        "acme/one:1",
        `ls /nix; echo --; ls /nix/store; echo --; cat ${greeting}/bin/greet >/dev/null 2>&1 && echo READABLE || echo ABSENT; hello`,
      );
      assert.equal(result.exitCode, 0, result.error);
      const [top, listed, rest] = (result.output ?? "").split("\n--\n");
      assert.equal(top, "store");
      const profile = (listed ?? "").split("\n").find((name) => name.includes("flox-env-run"));
      assert.ok(profile !== undefined, listed);
      const closure = await queryClosure([`/nix/store/${profile}` as StorePath], {
        storeRoot: e2e.node.storeRoot,
        substituters: [],
        trustedPublicKeys: [],
        requireSigs: true,
      });
      assert.deepEqual(
        (listed ?? "").split("\n"),
        closure.map((path) => path.slice("/nix/store/".length)).sort(),
      );
      assert.equal(rest, "ABSENT\nHello, world!", "the other environment's package is not there; hello runs");
    } finally {
      await setConfigKeys(e2e.node.configPath, "runtime", { mount: "store" });
    }
  });

  it("with nix-mutable: /nix takes new files, the closure's packages stay read-only", async () => {
    await setConfigKeys(e2e.node.configPath, "runtime", { mount: "closure" });
    try {
      const hello = e2e.fixtures.packages.hello;
      const result = await run(
        "closure-mutable",
        "acme/one:1",
        `touch /nix/store/added && echo ADDED; touch ${hello}/x 2>/dev/null && echo CHANGED || echo KEPT; ls /nix`,
        { "flox.dev/nix-mutable": "true" },
      );
      assert.equal(result.exitCode, 0, result.error);
      assert.equal(result.output, "ADDED\nKEPT\nstore");
    } finally {
      await setConfigKeys(e2e.node.configPath, "runtime", { mount: "store" });
    }
  });
});
