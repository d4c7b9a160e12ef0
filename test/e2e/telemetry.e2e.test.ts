import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { VERSION } from "../../src/version.js";
import { useFloxNode } from "../harness/e2e-node.js";
import { helloGeneration } from "../harness/flox-envs.js";
import { EMPTY_IMAGE_REF, FLOX_HANDLER, startFloxNode, withFloxPod } from "../harness/flox-node.js";
import { setConfigKeys } from "../harness/node-config-edit.js";
import { type RunningPod, readContainerLog, removePod, runPod, waitForExit } from "../harness/pod.js";

let spool: string;

type Event = Record<string, unknown>;

async function spooled(): Promise<Event[]> {
  if (!existsSync(spool)) return [];
  const text = await readFile(spool, "utf8");
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Event);
}

/** Runs one pod to completion (or start failure) and removes it. */
async function runOnce(
  name: string,
  annotations: Record<string, string>,
  command: string[] = ["hello"],
  inspect?: (pod: RunningPod) => Promise<void>,
): Promise<RunningPod> {
  return withFloxPod(
    e2e.node.cri,
    { name, annotations, command, logDir: e2e.node.logDir },
    async (pod, app) => {
      if (inspect !== undefined) await inspect(pod);
      else if (pod.startErrors["app"] === undefined)
        assert.equal(await waitForExit(e2e.node.cri, app, 30_000), 0);
      return pod;
    },
  );
}

/** Waits until no telemetry sender holds the node's lock (so nothing outlives the suite). */
async function senderDone(): Promise<void> {
  const lock = join(e2e.node.stateDir, "telemetry", "sender.lock");
  for (let i = 0; i < 200 && existsSync(lock); i++) await sleep(50);
}

const e2e = useFloxNode("telemetry", {
  environments: ({ packages: { hello, coreutils } }) => [
    {
      name: "hello",
      generations: [helloGeneration({ hello, coreutils })],
    },
  ],
  beforeStop: senderDone,
  afterStart: async () => {
    await setConfigKeys(e2e.node.configPath, "telemetry", { enabled: true });
    spool = join(e2e.node.stateDir, "telemetry", "events.jsonl");
  },
});

describe("telemetry of container starts", () => {
  it("spools one runtime.container_start event per start with its fields and nothing about the pod", async () => {
    const pinned = await runOnce("tm-pinned-pod", { "flox.dev/environment": "acme/hello:1" });
    await runOnce("tm-live-pod", { "flox.dev/environment": "acme/hello", "flox.dev/nix-mutable": "false" });
    const events = await spooled();
    assert.equal(events.length, 2);
    const [first, second] = events;
    assert.equal(first?.["event"], "runtime.container_start");
    assert.equal(first?.["version"], VERSION);
    assert.equal(first?.["result"], "ok");
    assert.equal(first?.["mode"], "run");
    assert.equal(first?.["mutable"], false);
    assert.equal(first?.["generation"], "pinned");
    assert.equal(first?.["generationNumber"], 1);
    assert.equal(first?.["environment"], "acme/hello");
    assert.equal(typeof first?.["cacheHit"], "boolean");
    for (const key of ["resolveMs", "realiseMs", "buildMs", "totalMs"])
      assert.equal(typeof first?.[key], "number", key);
    assert.ok(Math.abs(Date.parse(String(first?.["time"])) - Date.now()) < 120_000);
    assert.equal(second?.["generation"], "live");
    assert.equal(second?.["cacheHit"], true, "the second start found everything on the node");
    const text = JSON.stringify(events);
    for (const needle of [
      "tm-pinned-pod",
      "tm-live-pod",
      pinned.containers["app"] ?? "?",
      pinned.podId,
      "default",
    ])
      assert.ok(!text.includes(needle), `event holds ${needle}`);
  });

  it("records nothing for flox.dev/disable-metrics and sets FLOX_DISABLE_METRICS=true in the process and in exec", async () => {
    const before = (await spooled()).length;
    await runOnce(
      "tm-disabled",
      { "flox.dev/environment": "acme/hello:1", "flox.dev/disable-metrics": "true" },
      ["sh", "-c", 'echo "main FLOX_DISABLE_METRICS=$FLOX_DISABLE_METRICS"; exec sleep 600'],
      async (pod) => {
        assert.deepEqual(pod.startErrors, {});
        const id = pod.containers["app"] ?? "";
        const exec = await e2e.node.cri.execSync(id, ["env"], 20);
        assert.match(exec.stdout.toString(), /^FLOX_DISABLE_METRICS=true$/m);
        let main = "";
        for (let i = 0; i < 100 && !main.includes("\n"); i++) {
          main = (await readContainerLog(pod.logPaths["app"] ?? "")).stdout;
          await sleep(50);
        }
        assert.equal(main, "main FLOX_DISABLE_METRICS=true\n");
      },
    );
    assert.equal((await spooled()).length, before);
  });

  it("records a failed start with result error and its kind", async () => {
    const before = (await spooled()).length;
    const pod = await runOnce(
      "tm-bad",
      { "flox.dev/environment": "acme/hello:1", "flox.dev/activate-mode": "prod" },
      ["hello"],
      async () => {},
    );
    assert.match(pod.startErrors["app"] ?? "", /flox\.dev\/activate-mode/);
    const events = await spooled();
    assert.equal(events.length, before + 1);
    assert.equal(events.at(-1)?.["result"], "error");
    assert.equal(events.at(-1)?.["errorKind"], "invalid-input");
    // Not recorded when the same pod also opted out.
    await runOnce(
      "tm-bad-disabled",
      { "flox.dev/environment": "acme/hello:9", "flox.dev/disable-metrics": "true" },
      ["hello"],
      async () => {},
    );
    assert.equal((await spooled()).length, before + 1);
  });

  it("records nothing with [telemetry] enabled = false", async () => {
    await setConfigKeys(e2e.node.configPath, "telemetry", { enabled: false });
    try {
      const before = (await spooled()).length;
      await runOnce("tm-node-off", { "flox.dev/environment": "acme/hello:1" });
      assert.equal((await spooled()).length, before);
    } finally {
      await setConfigKeys(e2e.node.configPath, "telemetry", { enabled: true });
    }
  });

  it("records nothing when FLOX_DISABLE_METRICS is set in the runtime's environment", async () => {
    const quiet = await startFloxNode({
      gitUrl: e2e.gitUrl,
      fixtures: e2e.node.fixtures,
      env: { FLOX_DISABLE_METRICS: "1" },
    });
    try {
      await setConfigKeys(quiet.configPath, "telemetry", { enabled: true });
      const pod = await runPod(quiet.cri, {
        name: "tm-env-off",
        runtimeHandler: FLOX_HANDLER,
        annotations: { "flox.dev/environment": "acme/hello:1" },
        logDir: quiet.logDir,
        containers: [{ name: "app", image: EMPTY_IMAGE_REF, command: ["hello"] }],
      });
      try {
        assert.deepEqual(pod.startErrors, {});
        assert.equal(await waitForExit(quiet.cri, pod.containers["app"] ?? "", 30_000), 0);
      } finally {
        await removePod(quiet.cri, pod.podId);
      }
      assert.equal(existsSync(join(quiet.stateDir, "telemetry", "events.jsonl")), false);
    } finally {
      await quiet.stop();
    }
  });

  it("sends spooled events in a batch to [telemetry] endpoint, in the background", async () => {
    const received: Event[] = [];
    const server: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { events: Event[] };
        received.push(...body.events);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const waiting = (await spooled()).length;
      await setConfigKeys(e2e.node.configPath, "telemetry", { endpoint: `http://127.0.0.1:${port}/events` });
      await runOnce("tm-send", { "flox.dev/environment": "acme/hello" });
      for (let i = 0; i < 200 && received.length < waiting + 1; i++) await sleep(50);
      assert.equal(received.length, waiting + 1, "every spooled event and the new one arrived");
      assert.ok(received.every((event) => event["event"] === "runtime.container_start"));
      assert.equal(new Set(received.map((event) => event["id"])).size, received.length);
      await senderDone();
      assert.equal((await spooled()).length, 0, "the spool was emptied");
    } finally {
      await setConfigKeys(e2e.node.configPath, "telemetry", { endpoint: "" });
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("starts the pod when the spool cannot be written, logging telemetry.failed", async () => {
    await senderDone();
    const dir = join(e2e.node.stateDir, "telemetry");
    await rm(dir, { recursive: true, force: true });
    await writeFile(dir, "not a directory");
    try {
      const pod = await runOnce("tm-broken-spool", { "flox.dev/environment": "acme/hello:1" });
      assert.deepEqual(pod.startErrors, {});
      assert.match(await readFile(e2e.node.runtimeLog, "utf8"), /"event":"telemetry\.failed"/);
    } finally {
      await rm(dir, { force: true });
      await mkdir(dir);
    }
  });
});
