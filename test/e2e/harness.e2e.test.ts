/**
 * Proves the containerd + CRI harness on plain runc, before any imageless code is involved:
 * pods run and log, ExecSync works, images import, an extra handler reaches its BinaryName,
 * two daemons coexist, and stop() leaves no process or mount behind (also after a crash).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type CriClient, connectCri } from "../../src/cri/cri-client.js";
import { buildEmptyImage, EMPTY_IMAGE_REF } from "../../src/image/empty-image.js";
import { type Containerd, isAlive, startContainerd } from "../harness/containerd.js";
import { BUSYBOX_IMAGE_REF, buildBusyboxImage, PAUSE_IMAGE_REF } from "../harness/images.js";
import { parseCriLog, readContainerLog, removePod, runPod, waitForExit } from "../harness/pod.js";
import { fixturePath } from "../harness/repo-root.js";
import { makeTempDir, mountsUnder, removeTree } from "../harness/temp.js";

let containerd: Containerd;
let cri: CriClient;
let scratch: string;
const record = () => join(scratch, "fake-runc-record.txt");

before(async () => {
  scratch = await makeTempDir("harness");
  containerd = await startContainerd({
    runtimes: { flox2: { binaryName: fixturePath("fake-runc-recorder.sh") } },
    env: { FAKE_RUNC_RECORD: join(scratch, "fake-runc-record.txt") },
  });
  cri = connectCri(containerd.socket);
  await containerd.importImage(buildBusyboxImage());
});

after(async () => {
  cri?.close();
  await containerd?.stop();
  await removeTree(scratch);
});

/** The log is written by containerd's copier, a moment after the process exits. */
async function waitForLog(path: string, text: string): Promise<{ stdout: string; stderr: string }> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const log = await readContainerLog(path);
    if (log.stdout.includes(text) || Date.now() > deadline) return log;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test("runPod() on the runc handler runs `echo hi` and CRI logs it", { timeout: 60_000 }, async () => {
  const version = await cri.version();
  assert.equal(version.runtimeName, "containerd");
  const pod = await runPod(cri, {
    name: "echo",
    logDir: join(scratch, "logs-echo"),
    containers: [{ name: "app", image: BUSYBOX_IMAGE_REF, command: ["echo", "hi"], env: { FOO: "bar" } }],
  });
  try {
    assert.deepEqual(pod.startErrors, {});
    assert.equal(await waitForExit(cri, pod.containers["app"] ?? "", 20_000), 0);
    const logPath = pod.logPaths["app"] ?? "";
    assert.deepEqual(await waitForLog(logPath, "hi"), { stdout: "hi\n", stderr: "" });
  } finally {
    await removePod(cri, pod.podId);
  }
});

test("runPod() runs init containers first and captures a StartContainer failure", {
  timeout: 60_000,
}, async () => {
  const pod = await runPod(cri, {
    name: "init",
    logDir: join(scratch, "logs-init"),
    initContainers: [{ name: "init", image: BUSYBOX_IMAGE_REF, command: ["sh", "-c", "echo init >&2"] }],
    containers: [{ name: "broken", image: BUSYBOX_IMAGE_REF, command: ["/no/such/program"] }],
  });
  try {
    assert.deepEqual(pod.initExitCodes, { init: 0 });
    assert.equal((await waitForLog(pod.logPaths["init"] ?? "", "")).stderr, "init\n");
    assert.ok(pod.containers["broken"], "the failing container was created");
    assert.match(pod.startErrors["broken"] ?? "", /OCI runtime create failed: .*\/no\/such\/program/);
  } finally {
    await removePod(cri, pod.podId);
  }
});

test("execSync() in a sleeping container returns stdout and the exit code", { timeout: 60_000 }, async () => {
  const pod = await runPod(cri, {
    name: "exec",
    logDir: join(scratch, "logs-exec"),
    containers: [{ name: "sleeper", image: BUSYBOX_IMAGE_REF, env: { GREETING: "hello" } }],
  });
  try {
    const id = pod.containers["sleeper"] ?? "";
    assert.equal((await cri.containerStatus(id)).state, "CONTAINER_RUNNING");
    const ok = await cri.execSync(id, ["sh", "-c", "echo $GREETING"], 10);
    assert.equal(ok.stdout.toString(), "hello\n");
    assert.equal(ok.exitCode, 0);
    const failed = await cri.execSync(id, ["sh", "-c", "echo oops >&2; exit 3"], 10);
    assert.equal(failed.stderr.toString(), "oops\n");
    assert.equal(failed.exitCode, 3);
  } finally {
    await removePod(cri, pod.podId);
  }
});

test("importImage() makes the empty image and the pause image visible to CRI ImageStatus", async () => {
  assert.equal(await cri.imageStatus(EMPTY_IMAGE_REF), null);
  await containerd.importImage(buildEmptyImage());
  const image = await cri.imageStatus(EMPTY_IMAGE_REF);
  assert.deepEqual(image?.repoTags, [EMPTY_IMAGE_REF]);
  assert.ok(await cri.imageStatus(PAUSE_IMAGE_REF));
});

test("an extra handler runs its BinaryName (fake-runc-recorder) with runc's argv", {
  timeout: 60_000,
}, async () => {
  const pod = await runPod(cri, {
    name: "flox2",
    runtimeHandler: "flox2",
    annotations: { "flox.dev/environment": "acme/web" },
    logDir: join(scratch, "logs-flox2"),
    containers: [
      { name: "app", image: BUSYBOX_IMAGE_REF, command: ["echo", "via-fake"] },
      { name: "sleeper", image: BUSYBOX_IMAGE_REF },
    ],
  });
  try {
    assert.deepEqual(pod.startErrors, {});
    assert.equal(await waitForExit(cri, pod.containers["app"] ?? "", 20_000), 0);
    assert.equal((await waitForLog(pod.logPaths["app"] ?? "", "via-fake")).stdout, "via-fake\n");
    const calls = (await readFile(record(), "utf8")).trim().split("\n");
    const creates = calls.filter((line) => / create --bundle /.test(line));
    // One create each for the pause container, the app and the sleeper.
    assert.equal(creates.length, 3, calls.join("\n"));
    assert.ok(creates.every((line) => line.startsWith(`--root ${containerd.dir}/runc/k8s.io --log `)));
    // The sleeper's bundle is still there (an exited container's task is deleted).
    const bundle = join(
      containerd.state,
      "io.containerd.runtime.v2.task/k8s.io",
      pod.containers["sleeper"] ?? "",
    );
    const spec: unknown = JSON.parse(await readFile(join(bundle, "config.json"), "utf8"));
    assert.ok(typeof spec === "object" && spec !== null && "annotations" in spec);
    const annotations = spec.annotations;
    assert.ok(typeof annotations === "object" && annotations !== null);
    assert.equal(new Map(Object.entries(annotations)).get("flox.dev/environment"), "acme/web");
  } finally {
    await removePod(cri, pod.podId);
  }
});

test("parseCriLog() joins partial lines and splits streams", () => {
  const text = [
    "2026-01-01T00:00:00.000000001Z stdout P hel",
    "2026-01-01T00:00:00.000000002Z stdout F lo",
    "2026-01-01T00:00:00.000000003Z stderr F",
    "garbage",
    "2026-01-01T00:00:00.000000004Z stderr F a b  c",
    "",
  ].join("\n");
  assert.deepEqual(parseCriLog(text), { stdout: "hello\n", stderr: "\na b  c\n" });
});

async function assertCleanedUp(daemon: Containerd, pids: readonly number[]): Promise<void> {
  for (const pid of pids) assert.equal(isAlive(pid), false, `process ${pid} of the test still runs`);
  assert.deepEqual(await mountsUnder(daemon.dir), []);
  assert.equal(existsSync(daemon.dir), false);
}

test("two containerds run at once; stop() leaves no process or mount behind", {
  timeout: 60_000,
}, async () => {
  const second = await startContainerd();
  const secondCri = connectCri(second.socket);
  let pids: number[] = [];
  try {
    await second.importImage(buildBusyboxImage());
    const pod = await runPod(secondCri, {
      name: "sleeper",
      logDir: join(second.dir, "logs"),
      containers: [{ name: "app", image: BUSYBOX_IMAGE_REF }],
    });
    assert.deepEqual(pod.startErrors, {});
    pids = [second.pid, ...(await second.shimPids())];
    assert.equal(pids.length, 2, "containerd and one shim for the pod");
    assert.notEqual((await mountsUnder(second.dir)).length, 0, "the pod's rootfs is mounted");
  } finally {
    secondCri.close();
    await second.stop();
  }
  await assertCleanedUp(second, pids);
  await second.stop(); // a second call is harmless
  assert.equal((await cri.version()).runtimeName, "containerd", "the first daemon is unaffected");
});

test("stop() after containerd crashed kills the recorded shims and unmounts", {
  timeout: 60_000,
}, async () => {
  const crashed = await startContainerd();
  const crashedCri = connectCri(crashed.socket);
  let pids: number[] = [];
  try {
    await crashed.importImage(buildBusyboxImage());
    const pod = await runPod(crashedCri, {
      name: "orphan",
      logDir: join(crashed.dir, "logs"),
      containers: [{ name: "app", image: BUSYBOX_IMAGE_REF }],
    });
    assert.deepEqual(pod.startErrors, {});
    pids = [crashed.pid, ...(await crashed.shimPids())];
    assert.equal(pids.length, 2, "containerd and one shim for the pod");
    process.kill(crashed.pid, "SIGKILL");
    const deadline = Date.now() + 5_000;
    while (isAlive(crashed.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  } finally {
    crashedCri.close();
    await crashed.stop();
  }
  await assertCleanedUp(crashed, pids);
});
