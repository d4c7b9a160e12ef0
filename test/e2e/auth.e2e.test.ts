import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { lstat, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { useFloxNode } from "../harness/e2e-node.js";
import { helloGeneration } from "../harness/flox-envs.js";
import { EMPTY_IMAGE_REF, FLOX_HANDLER } from "../harness/flox-node.js";
import { setConfigKeys } from "../harness/node-config-edit.js";
import { type ContainerSpec, readContainerLog, removePod, runPod, waitForExit } from "../harness/pod.js";

// The hub's token for acme's private floxmeta; random so a leak anywhere is unambiguous.
const TOKEN = `imageless-e2e-${randomBytes(12).toString("hex")}`;
const BASIC = Buffer.from(`oauth:${TOKEN}`).toString("base64");
const ENV = "acme/private:1";

let tokenDir: string;
const errors: string[] = [];

/** A JWT (unsigned: the runtime reads `exp`, the hub verifies) expiring at `exp` (epoch s). */
function jwt(exp: number): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "HS256", typ: "JWT" })}.${part({ sub: "e2e", exp })}.${randomBytes(8).toString("base64url")}`;
}

/** A directory holding `floxhub-token`, as kubelet materialises a Secret volume. */
async function secretDir(name: string, token: string): Promise<string> {
  const dir = join(e2e.work, "secrets", name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "floxhub-token"), `${token}\n`);
  return dir;
}

const app = (command: string[], mounts: ContainerSpec["mounts"] = []): ContainerSpec => ({
  name: "app",
  image: EMPTY_IMAGE_REF,
  command,
  mounts,
});

async function startApp(name: string, container: ContainerSpec, env = ENV) {
  const pod = await runPod(e2e.node.cri, {
    name,
    runtimeHandler: FLOX_HANDLER,
    annotations: { "flox.dev/environment": env },
    logDir: e2e.node.logDir,
    containers: [container],
  });
  errors.push(...Object.values(pod.startErrors));
  return pod;
}

const e2e = useFloxNode("auth", {
  environments: ({ packages: { hello, coreutils } }) => [
    {
      name: "private",
      generations: [helloGeneration({ hello, coreutils })],
    },
  ],
  serveGit: { requireToken: TOKEN },
  // Through the node agent: authorization must still happen per start when one process serves them all.
  node: () => ({ agent: true }),
  afterStart: async () => {
    // Telemetry on, so its spool is among the files searched for the token.
    await setConfigKeys(e2e.node.configPath, "telemetry", { enabled: true });
    tokenDir = await secretDir("good", TOKEN);
  },
});

describe("a private environment on a hub that requires a token", () => {
  it("starts with the pod's Secret mounted as a directory", async () => {
    const pod = await startApp(
      "auth-dir",
      app(["hello"], [{ hostPath: tokenDir, containerPath: "/var/run/secrets/flox.dev", readonly: true }]),
    );
    try {
      assert.deepEqual(pod.startErrors, {});
      assert.equal(await waitForExit(e2e.node.cri, pod.containers["app"] ?? "", 30_000), 0);
      assert.equal((await readContainerLog(pod.logPaths["app"] ?? "")).stdout.trim(), "Hello, world!");
    } finally {
      await removePod(e2e.node.cri, pod.podId);
    }
  });

  it("starts with the token mounted as a single file (subPath) and keeps it out of the container's env", async () => {
    const pod = await startApp(
      "auth-file",
      app(
        ["sleep", "600"],
        [
          {
            hostPath: join(tokenDir, "floxhub-token"),
            containerPath: "/var/run/secrets/flox.dev/floxhub-token",
            readonly: true,
          },
        ],
      ),
    );
    try {
      assert.deepEqual(pod.startErrors, {});
      const id = pod.containers["app"] ?? "";
      const env = await e2e.node.cri.execSync(id, ["env"], 20);
      assert.equal(env.exitCode, 0);
      assert.match(env.stdout.toString(), /FLOX_ENV=/);
      assert.ok(!env.stdout.toString().includes(TOKEN), "token in the container's environment");
      const spec = await readFile(
        join(e2e.node.containerd.state, "io.containerd.runtime.v2.task", "k8s.io", id, "config.json"),
        "utf8",
      );
      assert.ok(!spec.includes(TOKEN), "token in config.json");
    } finally {
      await removePod(e2e.node.cri, pod.podId);
    }
  });

  it("uses the node's [floxhub] token-file when the pod has none, and the pod's token wins over it", async () => {
    const nodeToken = join(e2e.work, "node-token");
    await writeFile(nodeToken, TOKEN);
    await setConfigKeys(e2e.node.configPath, "floxhub", { "token-file": nodeToken });
    try {
      const plain = await startApp("auth-node-token", app(["hello"]));
      try {
        assert.deepEqual(plain.startErrors, {});
        assert.equal(await waitForExit(e2e.node.cri, plain.containers["app"] ?? "", 30_000), 0);
      } finally {
        await removePod(e2e.node.cri, plain.podId);
      }
      const wrong = await secretDir("wrong-over-node", "not-the-token");
      const pod = await startApp(
        "auth-pod-wins",
        app(["hello"], [{ hostPath: wrong, containerPath: "/var/run/secrets/flox.dev" }]),
      );
      try {
        assert.match(pod.startErrors["app"] ?? "", /the FloxHub token was refused/);
      } finally {
        await removePod(e2e.node.cri, pod.podId);
      }
    } finally {
      await setConfigKeys(e2e.node.configPath, "floxhub", { "token-file": "" });
    }
  });

  it("fails without a token, saying access was denied and what to mount, although another pod put it on the node", async () => {
    const pod = await startApp("auth-none", app(["hello"]));
    try {
      const error = pod.startErrors["app"] ?? "";
      assert.match(
        error,
        /OCI runtime create failed: imageless: environment 'acme\/private' at http:\/\/127\.0\.0\.1:\d+\/git: access denied: no FloxHub token was given; mount the floxhub-token secret/,
      );
    } finally {
      await removePod(e2e.node.cri, pod.podId);
    }
  });

  it("fails with a wrong token, saying it was refused", async () => {
    const wrong = await secretDir("wrong", "wrong-token-value");
    const pod = await startApp(
      "auth-wrong",
      app(["hello"], [{ hostPath: wrong, containerPath: "/var/run/secrets/flox.dev" }]),
    );
    try {
      assert.match(
        pod.startErrors["app"] ?? "",
        /access denied: the FloxHub token was refused; check that it is valid and may read this environment/,
      );
    } finally {
      await removePod(e2e.node.cri, pod.podId);
    }
  });

  it("fails an expired JWT before any hub request, saying when it expired and what to do", async () => {
    const exp = Math.floor(Date.now() / 1000) - 3600;
    const expired = await secretDir("expired", jwt(exp));
    const requests = e2e.git.requests();
    const pod = await startApp(
      "auth-expired",
      app(["hello"], [{ hostPath: expired, containerPath: "/var/run/secrets/flox.dev" }]),
    );
    try {
      const error = pod.startErrors["app"] ?? "";
      assert.ok(
        error.includes(
          `imageless: the FloxHub token from the pod's secret floxhub-token expired at ${new Date(exp * 1000).toISOString()}: create a new one`,
        ),
        error,
      );
      assert.match(error, /flox auth token \| kubectl create secret generic floxhub-token/);
      assert.equal(e2e.git.requests(), requests, "no hub request for an expired token");
    } finally {
      await removePod(e2e.node.cri, pod.podId);
    }
  });

  it("starts with a JWT that has not expired yet (the hub judges it)", async () => {
    // This hub accepts only TOKEN, so an unexpired JWT reaches it and is refused: not "expired".
    const fresh = await secretDir("fresh", jwt(Math.floor(Date.now() / 1000) + 3600));
    const pod = await startApp(
      "auth-fresh-jwt",
      app(["hello"], [{ hostPath: fresh, containerPath: "/var/run/secrets/flox.dev" }]),
    );
    try {
      assert.match(pod.startErrors["app"] ?? "", /the FloxHub token was refused/);
    } finally {
      await removePod(e2e.node.cri, pod.podId);
    }
  });

  it("never writes the token: not in logs, errors, the state directory or telemetry", async () => {
    assert.ok(existsSync(e2e.node.runtimeLog));
    const needles = [TOKEN, BASIC];
    const runtimeLog = await readFile(e2e.node.runtimeLog, "utf8");
    assert.match(runtimeLog, /access denied/, "the runtime log has the failures");
    const containerdLog = await readFile(e2e.node.containerd.logFile, "utf8");
    assert.ok(errors.length >= 3);
    for (const needle of needles) {
      assert.ok(!runtimeLog.includes(needle), "token in runtime.jsonl");
      assert.ok(!containerdLog.includes(needle), "token in the containerd log");
      for (const error of errors) assert.ok(!error.includes(needle), `token in an error: ${error}`);
    }
    const spool = join(e2e.node.stateDir, "telemetry", "events.jsonl");
    assert.ok(existsSync(spool), "telemetry events were spooled");
    const found = await filesContaining(e2e.node.stateDir, needles);
    assert.deepEqual(found, [], "state files holding the token");
  });
});

/** Every regular file under `dir` whose bytes contain one of `needles`. */
async function filesContaining(dir: string, needles: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir)) {
    const path = join(dir, entry);
    const info = await lstat(path);
    if (info.isDirectory()) found.push(...(await filesContaining(path, needles)));
    else if (info.isFile()) {
      const bytes = await readFile(path);
      if (needles.some((needle) => bytes.includes(needle))) found.push(path);
    }
  }
  return found;
}
