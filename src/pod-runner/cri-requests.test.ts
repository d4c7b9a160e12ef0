import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { containerConfigFor, missingSecrets, parseSecretFlags, sandboxConfigFor } from "./cri-requests.js";
import type { PodManifest } from "./pod-manifest.js";

const POD: PodManifest = {
  name: "web",
  namespace: "default",
  labels: { app: "web" },
  annotations: { "flox.dev/environment": "acme/web" },
  runtimeClassName: "flox",
  initContainers: [],
  containers: [
    {
      name: "app",
      image: "localhost/imageless/empty:1.0.0",
      command: ["web"],
      args: ["--port", "80"],
      env: [{ name: "A", value: "1" }],
      workingDir: "/srv",
      volumeMounts: [{ name: "token", mountPath: "/var/run/secrets/flox.dev" }],
    },
  ],
  volumes: [{ name: "token", secretName: "floxhub-token" }],
};

describe("the CRI requests for a Pod manifest", () => {
  it("a host-network sandbox without hostname, logs under <namespace>_<name>_<uid>", () => {
    assert.deepEqual(sandboxConfigFor(POD, "/logs", "u1"), {
      metadata: { name: "web", uid: "u1", namespace: "default", attempt: 0 },
      logDirectory: "/logs/default_web_u1",
      labels: { app: "web", "imageless.dev/pod-runner": "true" },
      annotations: { "flox.dev/environment": "acme/web" },
      linux: { securityContext: { namespaceOptions: { network: "NODE", pid: "POD", ipc: "POD" } } },
    });
  });

  it("a container with its command, env, working dir and the Secret bound read-only", () => {
    const container = POD.containers[0];
    assert.ok(container);
    assert.deepEqual(containerConfigFor(POD, container, "app", { "floxhub-token": "/secrets/t" }), {
      metadata: { name: "app", attempt: 0 },
      image: { image: "localhost/imageless/empty:1.0.0" },
      command: ["web"],
      args: ["--port", "80"],
      workingDir: "/srv",
      envs: [{ key: "A", value: "1" }],
      mounts: [{ hostPath: "/secrets/t", containerPath: "/var/run/secrets/flox.dev", readonly: true }],
      labels: { "imageless.dev/container-role": "app" },
      annotations: {},
      logPath: "app/0.log",
    });
  });

  it("names each mounted Secret that no --secret gave, and each malformed flag", () => {
    assert.deepEqual(missingSecrets(POD, {}), [
      "pod web: volume token needs Secret floxhub-token: pass --secret floxhub-token=DIR (a directory holding one file per key)",
    ]);
    assert.deepEqual(missingSecrets(POD, { "floxhub-token": "/d" }), []);
    assert.deepEqual(parseSecretFlags(["a=/x", "b=y=z"]), { ok: true, dirs: { a: "/x", b: "y=z" } });
    assert.deepEqual(parseSecretFlags(["=x", "nodir="]), {
      ok: false,
      problems: [
        '--secret: cannot use "=x": accepted is NAME=DIR',
        '--secret: cannot use "nodir=": accepted is NAME=DIR',
      ],
    });
  });
});
