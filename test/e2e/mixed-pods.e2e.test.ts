import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { useFloxNode } from "../harness/e2e-node.js";
import { helloGeneration } from "../harness/flox-envs.js";
import { EMPTY_IMAGE_REF, FLOX_HANDLER } from "../harness/flox-node.js";
import { type RunningPod, type RunPodOptions, readContainerLog, removePod, runPod } from "../harness/pod.js";

const BUSYBOX = "localhost/busybox:test";

const e2e = useFloxNode("mixed", {
  environments: ({ packages: { hello, coreutils } }) => [
    {
      name: "hello",
      generations: [helloGeneration({ hello, coreutils })],
    },
  ],
});

/** The mixed pod: a skipped init container, a skipped busybox sidecar, a Flox app and a skip-exec tool. */
function mixedPod(name: string, runtimeHandler: string): RunPodOptions {
  return {
    name,
    runtimeHandler,
    annotations: {
      "flox.dev/environment": "acme/hello:1",
      "flox.dev/skip-containers": "init, sidecar",
      "flox.dev/skip-containers-exec": "tool",
    },
    logDir: e2e.node.logDir,
    initContainers: [
      {
        name: "init",
        image: BUSYBOX,
        command: ["sh", "-c", "sleep 1; echo init ran"],
        env: { ROLE: "init" },
      },
    ],
    containers: [
      { name: "sidecar", image: BUSYBOX, command: ["sleep", "600"], env: { ROLE: "sidecar" } },
      { name: "app", image: EMPTY_IMAGE_REF, command: ["sleep", "600"] },
      {
        name: "tool",
        image: BUSYBOX,
        command: ["sh", "-c", 'echo "main FLOX_ENV=$FLOX_ENV"; exec sleep 600'],
      },
    ],
  };
}

/** config.json of every bundle seen while watching, by container ID: init containers' bundles go when they exit. */
const seen = new Map<string, string>();

/** Copies each bundle's config.json as it appears (after runc create), until `stop()`. */
function watchBundles(): { stop(): Promise<void> } {
  const tasks = () => join(e2e.node.containerd.state, "io.containerd.runtime.v2.task", "k8s.io");
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const id of existsSync(tasks()) ? await readdir(tasks()) : []) {
        // The shim's init.pid appears after runc create returned, so the config is the one runc used.
        if (seen.has(id) || !existsSync(join(tasks(), id, "init.pid"))) continue;
        const text = await readFile(join(tasks(), id, "config.json"), "utf8").catch(() => undefined);
        if (text !== undefined) seen.set(id, text);
      }
      await sleep(20);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}

async function configJson(containerId: string): Promise<string> {
  const text = seen.get(containerId);
  assert.ok(text !== undefined, `config.json of ${containerId} was seen`);
  return text;
}

/**
 * A container's config.json with what differs between two otherwise identical pods replaced by
 * placeholders: container and sandbox IDs, the pod UID and the sandbox's PID in namespace paths.
 */
async function normalisedSpec(pod: RunningPod, container: string): Promise<string> {
  const id = pod.containers[container] ?? "?";
  const uid =
    basename(dirname(dirname(pod.logPaths[container] ?? "x/x/x")))
      .split("_")
      .at(-1) ?? "?";
  return (await configJson(id))
    .split(id)
    .join("<container>")
    .split(pod.podId)
    .join("<sandbox>")
    .split(uid)
    .join("<uid>")
    .replace(/\/proc\/\d+\/ns\//g, "/proc/<pid>/ns/");
}

describe("a pod mixing skipped and Flox containers", () => {
  let flox: RunningPod;
  let plain: RunningPod;

  before(async () => {
    const watcher = watchBundles();
    try {
      flox = await runPod(e2e.node.cri, mixedPod("mixed", FLOX_HANDLER));
      plain = await runPod(e2e.node.cri, mixedPod("mixed", "runc"));
      await sleep(200);
    } finally {
      await watcher.stop();
    }
  });
  after(async () => {
    if (flox !== undefined) await removePod(e2e.node.cri, flox.podId);
    if (plain !== undefined) await removePod(e2e.node.cri, plain.podId);
  });

  it("starts every container: the init container ran, then sidecar, app and tool", async () => {
    assert.deepEqual(flox.startErrors, {});
    assert.deepEqual(flox.initExitCodes, { init: 0 });
    assert.equal((await readContainerLog(flox.logPaths["init"] ?? "")).stdout, "init ran\n");
    for (const name of ["sidecar", "app", "tool"]) {
      const status = await e2e.node.cri.containerStatus(flox.containers[name] ?? "");
      assert.equal(status.state, "CONTAINER_RUNNING", name);
    }
  });

  for (const name of ["init", "sidecar"]) {
    it(`runs skipped ${name} from the config.json containerd wrote, as on the plain runc handler`, async () => {
      const spec = await normalisedSpec(flox, name);
      assert.equal(spec, await normalisedSpec(plain, name));
      const parsed = JSON.parse(spec) as {
        annotations: Record<string, string>;
        mounts: { destination: string }[];
        process: { env: string[] };
      };
      assert.ok(!parsed.mounts.some((m) => m.destination === "/nix"));
      assert.ok(!parsed.process.env.some((e) => e.startsWith("FLOX_")));
      assert.equal(parsed.annotations["flox.dev/resolved-store-path"], undefined);
      const id = flox.containers[name] ?? "";
      assert.equal(existsSync(join(e2e.node.stateDir, "containers", `${id}.json`)), false, "no record");
      const exec = await e2e.node.cri.execSync(flox.containers["sidecar"] ?? "", ["env"], 20);
      assert.doesNotMatch(exec.stdout.toString(), /FLOX_ENV/);
    });
  }

  it("runs the Flox app in the environment, exec included", async () => {
    const app = flox.containers["app"] ?? "";
    const spec = JSON.parse(await configJson(app)) as { mounts: { destination: string }[] };
    assert.ok(spec.mounts.some((m) => m.destination === "/nix"));
    const hello = await e2e.node.cri.execSync(app, ["hello"], 20);
    assert.equal(hello.stdout.toString().trim(), "Hello, world!");
  });

  it("runs the skip-containers-exec tool's main process in the environment and its exec outside it", async () => {
    const tool = flox.containers["tool"] ?? "";
    let main = "";
    for (let i = 0; i < 100 && !main.includes("\n"); i++) {
      main = (await readContainerLog(flox.logPaths["tool"] ?? "")).stdout;
      await sleep(50);
    }
    assert.match(main, /^main FLOX_ENV=\/nix\/store\/[a-z0-9]{32}-flox-env-run\n$/);
    const exec = await e2e.node.cri.execSync(tool, ["env"], 20);
    assert.equal(exec.exitCode, 0);
    assert.doesNotMatch(exec.stdout.toString(), /FLOX_ENV/);
    const which = await e2e.node.cri.execSync(tool, ["sh", "-c", "command -v hello || echo none"], 20);
    assert.equal(which.stdout.toString().trim(), "none");
  });
});
