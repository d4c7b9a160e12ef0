/**
 * native/agent-client.c as bin/imageless-runc runs it, with a named fake runc behind it: its create
 * prefilter (specs that cannot concern the runtime go straight to runc, any spelling of the key to the
 * agent) and its bounded wait for an agent that accepts a call but never answers.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Annotation, CriAnnotation, CriContainerType } from "../../src/pod/annotations.js";
import { type AgentProcess, startAgentProcess } from "../harness/node-agent-process.js";
import { repoRoot } from "../harness/repo-root.js";
import { fakeRuncPath } from "../harness/runtime-create.js";
import { makeTempDir, removeTree } from "../harness/temp.js";

let work: string;
let configPath: string;
let socket: string;
let runtimeLog: string;
let runcLog: string;
let nodeStarts: string;
let recorder: string;

before(async () => {
  work = await makeTempDir("agent-client");
  configPath = join(work, "config.toml");
  socket = join(work, "run", "agent.sock");
  runtimeLog = join(work, "state", "log", "runtime.jsonl");
  runcLog = join(work, "runc.log");
  await writeFile(
    configPath,
    [
      "[runtime]",
      `runc = ${JSON.stringify(fakeRuncPath())}`,
      `state-dir = ${JSON.stringify(join(work, "state"))}`,
      `agent-socket = ${JSON.stringify(socket)}`,
      "[telemetry]",
      "enabled = false",
    ].join("\n"),
  );
  // A named fake in front of the real node: records each Node start of the wrapper, then runs it.
  nodeStarts = join(work, "node-starts.log");
  recorder = join(work, "node-recorder.sh");
  await writeFile(recorder, `#!/bin/sh\necho "$*" >>'${nodeStarts}'\nexec '${process.execPath}' "$@"\n`);
  await chmod(recorder, 0o755);
});

after(async () => {
  await removeTree(work);
});

/** Writes a bundle whose config.json is `text` exactly (the escapes under test are byte-level). */
async function bundle(name: string, text: string): Promise<string> {
  const dir = join(work, "bundles", name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "config.json"), text);
  return dir;
}

/** `imageless-runc create --bundle <dir> <id>` as the shim runs it; resolves with its exit code. */
function create(dir: string, id: string, env: Readonly<Record<string, string>> = {}): Promise<number | null> {
  const child = spawn(
    join(repoRoot(), "bin", "imageless-runc"),
    ["--log", join(dir, "log.json"), "--log-format", "json", "create", "--bundle", dir, id],
    {
      env: {
        ...process.env,
        IMAGELESS_CONFIG: configPath,
        IMAGELESS_NODE: recorder,
        FAKE_RUNC_LOG: runcLog,
        ...env,
      },
      stdio: "ignore",
    },
  );
  return new Promise((resolve) => child.on("close", (code) => resolve(code)));
}

async function lines(path: string): Promise<string[]> {
  return (await readFile(path, "utf8").catch(() => "")).split("\n").filter((line) => line !== "");
}

/** The containers of the agent's `agent.call` log lines, in order. */
async function agentCalls(): Promise<string[]> {
  return (await lines(runtimeLog))
    .map((line) => JSON.parse(line) as { event?: string; agent?: number; container?: string })
    .filter((entry) => entry.event === "agent.call" && entry.agent === 1)
    .map((entry) => entry.container ?? "");
}

/** The container IDs runc was called with (the last argument of each create). */
async function runcCreates(): Promise<string[]> {
  return (await lines(runcLog)).map((line) => line.split("\x1f").at(-1) ?? "");
}

const CRI = '"io.kubernetes.cri.container-name":"app","io.kubernetes.cri.sandbox-id":"s"';
/** Annotations as JSON object members, the way containerd writes config.json. */
function members(annotations: Readonly<Record<string, string>>): string {
  return JSON.stringify(annotations).slice(1, -1);
}

function spec(annotations: string): string {
  return `{"ociVersion":"1.0.2","process":{"args":["sleep","600"],"env":["PATH=/bin","X=a && b <c>"],"cwd":"/"},"root":{"path":"rootfs"},"annotations":{${annotations}}}`;
}

describe("imageless-agent-client", () => {
  let agent: AgentProcess | undefined;

  it("sends a create to the agent only when its spec names flox.dev/environment, in any spelling", async () => {
    agent = await startAgentProcess(configPath);
    // The agent leaves the escaped ones unmodified too (the container is skipped): what matters is
    // that they reached it, and that runc then ran every create.
    const skip = '"flox.dev/skip-containers":"app"';
    const cases = [
      // The two the prefilter skips, written from the keys policy.ts reads (as containerd's Go encoder
      // writes them: no spaces), so renaming a key there without the C side turns this red.
      [
        "sandbox",
        spec(
          members({
            [CriAnnotation.containerType]: CriContainerType.sandbox,
            [CriAnnotation.containerName]: "app",
            [Annotation.environment]: "acme/web",
          }),
        ),
      ],
      ["no-annotation", spec(`"io.kubernetes.cri.container-type":"container",${CRI}`)],
      ["other-flox-key", spec(`"io.kubernetes.cri.container-type":"container",${CRI},${skip}`)],
      [
        "slash-escaped",
        spec(
          `"io.kubernetes.cri.container-type":"container",${CRI},${skip},"flox.dev\\/environment":"acme/web"`,
        ),
      ],
      [
        "u-escaped",
        spec(
          `"io.kubernetes.cri.container-type":"container",${CRI},${skip},"\\u0066lox.dev\\u002Fenvironment":"acme/web"`,
        ),
      ],
      [
        "plain-key",
        spec(
          members({
            [CriAnnotation.containerType]: CriContainerType.container,
            [CriAnnotation.containerName]: "app",
            [Annotation.skipContainers]: "app",
            [Annotation.environment]: "acme/web",
          }),
        ),
      ],
      // "sandbox" inside a string value is not the pause container's annotation.
      [
        "sandbox-in-a-value",
        spec(
          `"io.kubernetes.cri.container-type":"container",${CRI},${skip},"flox.dev/environment":"acme/web","x":"\\"io.kubernetes.cri.container-type\\":\\"sandbox\\""`,
        ),
      ],
    ] as const;
    for (const [id, text] of cases) assert.equal(await create(await bundle(id, text), id), 0, id);
    assert.deepEqual(await agentCalls(), ["slash-escaped", "u-escaped", "plain-key", "sandbox-in-a-value"]);
    assert.deepEqual(
      await runcCreates(),
      cases.map(([id]) => id),
    );
    assert.deepEqual(await lines(nodeStarts), []);
  });

  it("does a create in-process when the agent accepts it but never acknowledges", async () => {
    await agent?.stop();
    agent = undefined;
    await rm(runcLog, { force: true });
    // A named fake agent: accepts connections and never writes a byte.
    const held: Socket[] = [];
    const fake: Server = createServer((connection) => held.push(connection));
    await new Promise<void>((resolve) => fake.listen(socket, resolve));
    try {
      const text = spec(
        `"io.kubernetes.cri.container-type":"container",${CRI},"flox.dev/skip-containers":"app","flox.dev/environment":"acme/web"`,
      );
      const code = await create(await bundle("hung-agent", text), "hung-agent", {
        IMAGELESS_AGENT_ACK_TIMEOUT_MS: "300",
      });
      assert.equal(code, 0);
      assert.equal(held.length, 1, "the client connected to the fake agent once");
      assert.deepEqual(await runcCreates(), ["hung-agent"]);
      const starts = await lines(nodeStarts);
      assert.equal(starts.length, 1, starts.join("\n"));
      assert.match(starts[0] ?? "", / create .*hung-agent$/);
    } finally {
      for (const connection of held) connection.destroy();
      await new Promise<void>((resolve) => fake.close(() => resolve()));
    }
  });

  it("refuses to start the agent in a socket directory that others may write", async () => {
    const open = join(work, "open-run");
    await mkdir(open, { recursive: true });
    await chmod(open, 0o777);
    const openConfig = join(work, "open-config.toml");
    const text = await readFile(configPath, "utf8");
    await writeFile(
      openConfig,
      text.replace(JSON.stringify(socket), JSON.stringify(join(open, "agent.sock"))),
    );
    await assert.rejects(startAgentProcess(openConfig), (error: Error) =>
      error.message.includes(
        `node agent: the socket directory ${open} is mode 777; accepted is a directory owned by this user (uid 0) that no one else may write (e.g. chmod 0700)`,
      ),
    );
  });

  after(async () => {
    await agent?.stop();
  });
});
