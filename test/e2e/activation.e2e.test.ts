/**
 * Activation through containerd and CRI (SPEC §5): hooks and shell-only [vars] run in the
 * environment's bash and then exec the command; without them there is no shell at all; `dev` mode
 * links every output and sets the development variables.
 */
import assert from "node:assert/strict";
import { lstatSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fixtureGeneration } from "../harness/flox-envs.js";
import { EMPTY_IMAGE_REF, FLOX_HANDLER, type FloxNode, startFloxNode } from "../harness/flox-node.js";
import { writeFloxmeta } from "../harness/floxmeta-fixture.js";
import { buildFixturePackages, type Fixtures } from "../harness/nix-fixtures.js";
import { setConfigKeys } from "../harness/node-config-edit.js";
import {
  type ContainerLog,
  type RunningPod,
  readContainerLog,
  removePod,
  runPod,
  waitForExit,
} from "../harness/pod.js";
import { makeTempDir, removeTree } from "../harness/temp.js";

// One node for the suite: containerd start and the fixture build cost seconds, the pods milliseconds.
let node: FloxNode;
let work: string;
let fixtures: Fixtures;

const HOOK = ["echo hook-stdout", "echo hook-stderr >&2", 'export FROM_HOOK="hook saw $GREETING"'].join("\n");

before(async () => {
  work = await makeTempDir("activation");
  fixtures = await buildFixturePackages(join(work, "fixtures"));
  const { coreutils, bash, hello, libgreet } = fixtures.packages;
  const base = [
    { installId: "coreutils", path: coreutils },
    { installId: "bash", path: bash },
  ];
  await writeFloxmeta(join(work, "floxmeta"), "acme", [
    {
      name: "hooked",
      generations: [
        fixtureGeneration(base, {
          hook: HOOK,
          vars: { FULL: "${GREETING} world", GREETING: "hello", NOW: "$(echo shell-$GREETING)" },
        }),
      ],
    },
    {
      name: "failing",
      generations: [fixtureGeneration(base, { hook: "echo about to fail >&2\nfalse" })],
    },
    {
      name: "plain",
      generations: [fixtureGeneration([...base, { installId: "hello", path: hello }], { vars: { A: "a" } })],
    },
    {
      name: "nobash",
      generations: [
        fixtureGeneration([{ installId: "coreutils", path: coreutils }], {
          hook: 'export FROM_HOOK="no bash"',
        }),
      ],
    },
    {
      name: "libs",
      generations: [
        fixtureGeneration([
          { installId: "coreutils", path: coreutils },
          {
            installId: "libgreet",
            path: libgreet,
            outputs: { out: libgreet, dev: fixtures.packages["libgreet-dev"] },
            outputsToInstall: ["out"],
          },
        ]),
      ],
    },
  ]);
  node = await startFloxNode({ gitUrl: `file://${join(work, "floxmeta")}`, fixtures });
});

after(async () => {
  await node?.stop();
  await removeTree(work);
});

/** Runs a one-container pod on the empty image and hands it to `check`; the pod is removed after. */
async function withPod(
  name: string,
  annotations: Record<string, string>,
  command: readonly string[],
  check: (pod: RunningPod, app: string) => Promise<void>,
): Promise<void> {
  const pod = await runPod(node.cri, {
    name,
    runtimeHandler: FLOX_HANDLER,
    annotations,
    logDir: node.logDir,
    containers: [{ name: "app", image: EMPTY_IMAGE_REF, command }],
  });
  try {
    await check(pod, pod.containers["app"] ?? "");
  } finally {
    await removePod(node.cri, pod.podId);
  }
}

/** Waits for the container to exit; its exit code and log. */
async function finished(pod: RunningPod, app: string): Promise<{ code: number; log: ContainerLog }> {
  assert.deepEqual(pod.startErrors, {});
  const code = await waitForExit(node.cri, app, 30_000);
  return { code, log: await readContainerLog(pod.logPaths["app"] ?? "") };
}

function bundleDir(containerId: string): string {
  return join(node.containerd.state, "io.containerd.runtime.v2.task", "k8s.io", containerId);
}

/** The args runc was given for the container (the wrapper edits config.json in place). */
async function specArgs(containerId: string): Promise<string[]> {
  const spec: { process?: { args?: string[] } } = JSON.parse(
    await readFile(join(bundleDir(containerId), "config.json"), "utf8"),
  );
  return spec.process?.args ?? [];
}

/** argv of the container's init process, read on the host from /proc (the shim's init.pid). */
async function initArgv(containerId: string): Promise<string[]> {
  const pid = (await readFile(join(bundleDir(containerId), "init.pid"), "utf8")).trim();
  const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8");
  return cmdline.split("\0").slice(0, -1);
}

describe("hook.on-activate and [vars] through bash", () => {
  it("exports hook variables and expanded [vars] to the command; hook stdout goes to stderr", async () => {
    await withPod(
      "hooked",
      { "flox.dev/environment": "acme/hooked:1" },
      ["sh", "-c", 'echo "$FROM_HOOK|$FULL|$NOW"'],
      async (pod, app) => {
        const { code, log } = await finished(pod, app);
        assert.equal(code, 0, log.stderr);
        assert.equal(log.stdout, "hook saw hello|hello world|shell-hello\n");
        assert.equal(log.stderr, "hook-stdout\nhook-stderr\n");
      },
    );
  });

  it("execs the command in place of bash (same PID) and runs the hook again for ExecSync", async () => {
    await withPod(
      "hooked-exec",
      { "flox.dev/environment": "acme/hooked:1" },
      ["sleep", "600"],
      async (pod, app) => {
        assert.deepEqual(pod.startErrors, {});
        const args = await specArgs(app);
        assert.match(args[0] ?? "", /^\/nix\/store\/[a-z0-9]{32}-bash-5\.2\/bin\/bash$/);
        assert.deepEqual(args.slice(-2), ["sleep", "600"]);
        // The shell exec'd the command: the container's init process is now `sleep 600` itself.
        await waitFor(
          async () => (await initArgv(app)).join(" ") === "sleep 600",
          "init process becomes sleep",
        );
        const exec = await node.cri.execSync(app, ["sh", "-c", 'echo "$FROM_HOOK/$NOW"'], 20);
        assert.equal(exec.exitCode, 0);
        assert.equal(exec.stdout.toString(), "hook saw hello/shell-hello\n");
        assert.equal(exec.stderr.toString(), "hook-stdout\nhook-stderr\n", "the hook ran for the exec");
        const missing = await node.cri.execSync(app, ["no-such-tool"], 20);
        assert.equal(missing.exitCode, 127);
        assert.match(missing.stderr.toString(), /no-such-tool: command not found/);
      },
    );
  });

  it("leaves exec processes of a skip-containers-exec container outside the environment (no hook)", async () => {
    const pod = await runPod(node.cri, {
      name: "hooked-skip-exec",
      runtimeHandler: FLOX_HANDLER,
      annotations: { "flox.dev/environment": "acme/hooked:1", "flox.dev/skip-containers-exec": "app" },
      logDir: node.logDir,
      containers: [{ name: "app", image: "localhost/busybox:test", command: ["sleep", "600"] }],
    });
    try {
      assert.deepEqual(pod.startErrors, {});
      const app = pod.containers["app"] ?? "";
      const exec = await node.cri.execSync(app, ["sh", "-c", 'echo "${FROM_HOOK-unset}"'], 20);
      assert.equal(exec.stdout.toString(), "unset\n");
      assert.equal(exec.stderr.toString(), "", "the hook did not run");
    } finally {
      await removePod(node.cri, pod.podId);
    }
  });

  it("fails the container with exit code 1 and the hook's stderr in the log when the hook fails", async () => {
    await withPod(
      "failing",
      { "flox.dev/environment": "acme/failing:1" },
      ["sh", "-c", "echo ran"],
      async (pod, app) => {
        const { code, log } = await finished(pod, app);
        assert.equal(code, 1);
        assert.equal(log.stdout, "");
        assert.match(log.stderr, /about to fail/);
        assert.match(log.stderr, /imageless: hook\.on-activate failed with exit status 1/);
      },
    );
  });

  it("reports a missing command as '<cmd>: command not found' with exit code 127 where a shell activates", async () => {
    await withPod(
      "hooked-missing",
      { "flox.dev/environment": "acme/hooked:1" },
      ["no-such-cmd"],
      async (pod, app) => {
        const { code, log } = await finished(pod, app);
        assert.equal(code, 127);
        assert.match(log.stderr, /^no-such-cmd: command not found$/m);
      },
    );
  });
});

describe("no hook and no shell-only [vars]", () => {
  it("starts the command with no shell: the spec's args and the init process are the command", async () => {
    await withPod("plain", { "flox.dev/environment": "acme/plain:1" }, ["sleep", "600"], async (pod, app) => {
      assert.deepEqual(pod.startErrors, {});
      assert.deepEqual(await specArgs(app), ["sleep", "600"]);
      await waitFor(async () => (await initArgv(app)).join(" ") === "sleep 600", "init process is sleep");
      const env = await node.cri.execSync(app, ["sh", "-c", 'echo "$A"'], 20);
      assert.equal(env.stdout.toString(), "a\n");
      assert.equal(env.stderr.toString(), "", "no hook output");
    });
  });

  it("fails StartContainer naming a missing command (runc's own error)", async () => {
    await withPod(
      "plain-missing",
      { "flox.dev/environment": "acme/plain:1" },
      ["no-such-cmd"],
      async (pod) => {
        const error = pod.startErrors["app"] ?? "";
        assert.match(error, /no-such-cmd/);
      },
    );
  });
});

describe("where bash comes from", () => {
  it("fails clearly when the environment has no bash and the node configures none, then uses [runtime] shell", async () => {
    await withPod(
      "nobash",
      { "flox.dev/environment": "acme/nobash:1" },
      ["sh", "-c", 'echo "$FROM_HOOK"'],
      async (pod, app) => {
        assert.match(
          pod.startErrors["app"] ?? "",
          /imageless: environment acme\/nobash generation 1 \(hook\.on-activate\) needs bash.*flox install bash.*\[runtime\] shell/,
        );
        // The failed start released what it had taken (the environment's GC root).
        assert.equal(pathExists(join(node.stateDir, "gcroots", app)), false, "no gc root left");
        assert.equal(pathExists(join(node.stateDir, "containers", `${app}.json`)), false, "no record");
      },
    );
    // The wrapper reads the node config at every call, so the change applies to the next pod.
    const original = await readFile(node.configPath, "utf8");
    await setConfigKeys(node.configPath, "runtime", { shell: fixtures.packages.bash });
    let shellRoot = "";
    try {
      await withPod(
        "nobash-shell",
        { "flox.dev/environment": "acme/nobash:1" },
        ["sh", "-c", 'echo "$FROM_HOOK"; exec sleep 600'],
        async (pod, app) => {
          assert.deepEqual(pod.startErrors, {});
          const logPath = pod.logPaths["app"] ?? "";
          await waitFor(
            async () => (await readContainerLog(logPath)).stdout === "no bash\n",
            "the hook's export",
          );
          // The node's bash is not in the environment's closure, so the container roots it itself.
          shellRoot = join(node.stateDir, "gcroots", `${app}.shell`);
          assert.ok(pathExists(shellRoot), "the configured bash is rooted while the container runs");
        },
      );
      assert.equal(pathExists(shellRoot), false, "and released on delete");
    } finally {
      await writeFile(node.configPath, original);
    }
  });
});

describe("flox.dev/activate-mode", () => {
  const probe = [
    "sh",
    "-c",
    'echo "CPATH=${CPATH-unset} PYTHONPATH=${PYTHONPATH-unset} PKG_CONFIG_PATH=${PKG_CONFIG_PATH-unset}"; ls "$FLOX_ENV/include" "$FLOX_ENV/lib/pkgconfig" 2>&1; echo "FLOX_ENV=$FLOX_ENV"',
  ];

  it("dev links every output and sets CPATH, PYTHONPATH, PKG_CONFIG_PATH…; run does neither", async () => {
    const outputs: Record<string, string> = {};
    for (const mode of ["run", "dev"]) {
      await withPod(
        `libs-${mode}`,
        { "flox.dev/environment": "acme/libs:1", "flox.dev/activate-mode": mode },
        probe,
        async (pod, app) => {
          const { code, log } = await finished(pod, app);
          assert.equal(code, 0, log.stderr);
          outputs[mode] = log.stdout;
        },
      );
    }
    const devEnv = /FLOX_ENV=(\S+)/.exec(outputs["dev"] ?? "")?.[1] ?? "?";
    assert.match(devEnv, /-flox-env-dev$/);
    assert.match(outputs["dev"] ?? "", new RegExp(`CPATH=${devEnv}/include `));
    assert.match(outputs["dev"] ?? "", new RegExp(`PYTHONPATH=${devEnv}/lib/python3.11/site-packages `));
    assert.match(
      outputs["dev"] ?? "",
      new RegExp(`PKG_CONFIG_PATH=${devEnv}/lib/pkgconfig:${devEnv}/share/pkgconfig`),
    );
    assert.match(outputs["dev"] ?? "", /greet\.h/);
    assert.match(outputs["dev"] ?? "", /greet\.pc/);
    assert.match(outputs["run"] ?? "", /CPATH=unset PYTHONPATH=unset PKG_CONFIG_PATH=unset/);
    assert.doesNotMatch(outputs["run"] ?? "", /greet\.h/);
    assert.match(outputs["run"] ?? "", /-flox-env-run\n$/);
  });

  it("fails StartContainer for an invalid mode, naming the annotation, the value and the accepted ones", async () => {
    await withPod(
      "libs-bad",
      { "flox.dev/environment": "acme/libs:1", "flox.dev/activate-mode": "debug" },
      ["true"],
      async (pod) => {
        const error = pod.startErrors["app"] ?? "";
        assert.match(error, /imageless: annotation flox\.dev\/activate-mode: cannot use "debug"/);
        assert.match(error, /"run"/);
        assert.match(error, /"dev"/);
      },
    );
  });
});

async function waitFor(condition: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** True when `path` exists, a dangling link included (GC roots point into the node store, not the host's /nix). */
function pathExists(path: string): boolean {
  return lstatSync(path, { throwIfNoEntry: false }) !== undefined;
}
