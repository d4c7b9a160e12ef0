/**
 * The node agent end to end: with `imageless node agent` running, create / exec / delete of a Flox
 * container are done by the agent and no Node process starts per runc call; with the agent stopped
 * pods still start in-process; a restarted agent serves the containers started before it.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { useFloxNode } from "../harness/e2e-node.js";
import { helloGeneration } from "../harness/flox-envs.js";
import { EMPTY_IMAGE_REF, FLOX_HANDLER } from "../harness/flox-node.js";
import { startAgentProcess } from "../harness/node-agent-process.js";
import { type RunningPod, removePod, runPod } from "../harness/pod.js";

let nodeStarts: string;

const e2e = useFloxNode("agent", {
  environments: ({ packages: { hello, coreutils } }) => [
    { name: "hello", generations: [helloGeneration({ hello, coreutils }, { vars: { GREETING: "hi" } })] },
  ],
  node: async ({ work }) => {
    // A named fake in front of the real node: records each Node start of the wrapper, then runs it.
    nodeStarts = join(work, "node-starts.log");
    const recorder = join(work, "node-recorder.sh");
    await writeFile(recorder, `#!/bin/sh\necho "$*" >>'${nodeStarts}'\nexec '${process.execPath}' "$@"\n`);
    await chmod(recorder, 0o755);
    return { agent: true, env: { IMAGELESS_NODE: recorder } };
  },
});

async function wrapperNodeStarts(): Promise<string[]> {
  const text = await readFile(nodeStarts, "utf8").catch(() => "");
  return text.split("\n").filter((line) => line !== "");
}

/** The runtime log's entries of `event` for `container`: which process wrote them. */
async function loggedBy(event: string, container: string): Promise<number[]> {
  const lines = (await readFile(e2e.node.runtimeLog, "utf8")).split("\n").filter((l) => l !== "");
  return lines
    .map((line) => JSON.parse(line) as { event?: string; container?: string; pid?: number })
    .filter((entry) => entry.event === event && entry.container === container)
    .map((entry) => entry.pid ?? 0);
}

function sleeper(name: string): Promise<RunningPod> {
  return runPod(e2e.node.cri, {
    name,
    runtimeHandler: FLOX_HANDLER,
    annotations: { "flox.dev/environment": "acme/hello" },
    logDir: e2e.node.logDir,
    containers: [{ name: "app", image: EMPTY_IMAGE_REF, command: ["sleep", "600"] }],
  });
}

async function greeting(pod: RunningPod): Promise<string> {
  const result = await e2e.node.cri.execSync(
    pod.containers["app"] ?? "",
    ["sh", "-c", 'hello; echo "$GREETING"'],
    20,
  );
  assert.equal(result.exitCode, 0, result.stderr.toString());
  return result.stdout.toString().trim();
}

describe("imageless node agent", () => {
  let first: RunningPod | undefined;
  let second: RunningPod | undefined;

  it("does create and exec of a Flox container with no Node process started by the wrapper", async () => {
    const agentPid = e2e.node.agent?.pid;
    first = await sleeper("served-by-agent");
    assert.deepEqual(first.startErrors, {});
    const app = first.containers["app"] ?? "";
    assert.equal(await greeting(first), "Hello, world!\nhi");
    assert.deepEqual(await loggedBy("start.prepared", app), [agentPid]);
    assert.deepEqual(await loggedBy("exec.activated", app), [agentPid]);
    // The pod's sandbox (its spec carries the pod's flox.dev/environment too) never reached the agent:
    // the client's prefilter sent its create straight to runc.
    assert.deepEqual(await loggedBy("agent.call", first.podId), []);
    assert.deepEqual(await loggedBy("agent.call", app), [agentPid, agentPid]); // create, exec
    assert.deepEqual(await wrapperNodeStarts(), []);
  });

  it("lets pods start in-process once it died (its socket left behind), and exec still works", async () => {
    // Killed, not stopped: the socket file stays, so the client meets a refused connection and
    // hands the call back to the dispatcher's in-process path.
    if (e2e.node.agent !== undefined) process.kill(e2e.node.agent.pid, "SIGKILL");
    await e2e.node.agent?.stop();
    assert.ok(existsSync(e2e.node.agentSocket), "the dead agent's socket is still there");
    e2e.node.agent = undefined;
    second = await sleeper("without-agent");
    assert.deepEqual(second.startErrors, {});
    assert.equal(await greeting(second), "Hello, world!\nhi");
    assert.equal(await greeting(first as RunningPod), "Hello, world!\nhi");
    const starts = await wrapperNodeStarts();
    // create of the app only (the sandbox's create goes from the client's prefilter straight to
    // runc) and one exec each; runc's other calls never reach Node.
    assert.equal(starts.filter((line) => / create /.test(line)).length, 1, starts.join("\n"));
    assert.equal(starts.filter((line) => / exec /.test(line)).length, 2, starts.join("\n"));
  });

  it("serves, once restarted, exec and delete of the containers started before it", async () => {
    await writeFile(nodeStarts, "");
    e2e.node.agent = await startAgentProcess(e2e.node.configPath);
    const agentPid = e2e.node.agent.pid;
    for (const pod of [first, second] as RunningPod[]) {
      const app = pod.containers["app"] ?? "";
      assert.equal(await greeting(pod), "Hello, world!\nhi");
      await removePod(e2e.node.cri, pod.podId);
      assert.ok((await loggedBy("delete.released", app)).includes(agentPid), `released by the agent: ${app}`);
    }
    first = undefined;
    second = undefined;
    assert.deepEqual(await wrapperNodeStarts(), []);
  });

  after(async () => {
    for (const pod of [first, second])
      if (pod !== undefined) await removePod(e2e.node.cri, pod.podId).catch(() => {});
  });
});
