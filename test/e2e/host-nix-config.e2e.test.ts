/**
 * The runtime runs Nix with settings it owns (src/nix/owned-settings.ts): whatever the host's Nix
 * configuration says, only the node config decides substituters, keys and signatures. The node here
 * is given the worst host config we could think of, through the variables the runtime inherits from
 * containerd (a NIX_CONF_DIR holding a hostile nix.conf, a daemon store that does not exist, a user
 * config file): a build group that does not exist, a dead and a counting substituter, no signature
 * requirement, untrusted keys.
 */
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { type BinaryCacheServer, serveBinaryCache } from "../harness/binary-cache-server.js";
import { useFloxNode } from "../harness/e2e-node.js";
import { fixtureGeneration, helloGeneration } from "../harness/flox-envs.js";
import { EMPTY_IMAGE_REF, FLOX_HANDLER } from "../harness/flox-node.js";
import { runToCompletion } from "../harness/pod.js";

/** A substituter only the hostile host config names: the runtime must never ask it anything. */
let hostOnlyCache: BinaryCacheServer;

const e2e = useFloxNode("host-nix-config", {
  environments: (fixtures) => [
    { name: "hello", generations: [helloGeneration(fixtures.packages)] },
    {
      name: "unsigned",
      generations: [fixtureGeneration([{ installId: "unsigned", path: fixtures.packages.unsigned }])],
    },
  ],
  node: async ({ work, fixtures }) => {
    hostOnlyCache = await serveBinaryCache(fixtures.cacheDir);
    const hostConfDir = join(work, "host-etc-nix");
    await mkdir(hostConfDir, { recursive: true });
    const hostileConf = [
      "build-users-group = imageless-no-such-group",
      `substituters = http://127.0.0.1:9/dead ${hostOnlyCache.url}`,
      "trusted-public-keys = someone-else-1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
      "require-sigs = false",
      "sandbox = true",
      "",
    ].join("\n");
    await writeFile(join(hostConfDir, "nix.conf"), hostileConf);
    await writeFile(join(work, "user-nix.conf"), hostileConf);
    return {
      env: {
        NIX_CONF_DIR: hostConfDir,
        NIX_USER_CONF_FILES: join(work, "user-nix.conf"),
        NIX_REMOTE: "daemon",
      },
    };
  },
});

after(async () => {
  await hostOnlyCache?.close();
});

describe("a node whose host Nix configuration is hostile", () => {
  it("starts a Flox pod, fetching only from the configured substituter", async () => {
    const result = await runToCompletion(e2e.node.cri, {
      name: "hello",
      runtimeHandler: FLOX_HANDLER,
      annotations: { "flox.dev/environment": "acme/hello" },
      logDir: e2e.node.logDir,
      containers: [{ name: "app", image: EMPTY_IMAGE_REF, command: ["hello"] }],
    });
    assert.deepEqual(result, { output: "Hello, world!", exitCode: 0 });
    assert.deepEqual([...hostOnlyCache.requests.keys()], [], "the host's substituter was asked");
  });

  it("still refuses a path no configured key signed, although the host says require-sigs = false", async () => {
    const result = await runToCompletion(e2e.node.cri, {
      name: "unsigned",
      runtimeHandler: FLOX_HANDLER,
      annotations: { "flox.dev/environment": "acme/unsigned" },
      logDir: e2e.node.logDir,
      containers: [{ name: "app", image: EMPTY_IMAGE_REF, command: ["unsigned"] }],
    });
    assert.equal(result.output, undefined);
    assert.match(
      result.error ?? "",
      /imageless: .*unsigned-1\.0.*the cache's copy is unsigned or signed by a key not in trusted-public-keys/,
    );
    assert.deepEqual([...hostOnlyCache.requests.keys()], [], "the host's substituter was asked");
  });
});
