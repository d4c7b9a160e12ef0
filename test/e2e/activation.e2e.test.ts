/**
 * Activation through containerd and CRI (SPEC §5, docs/flox-compatibility.md): hooks and shell-only
 * [vars] run in the environment's bash once per container and then exec the command; without them
 * there is no shell at all; certificates and locale default as Flox's envrc does; `dev` mode adds
 * what a package propagates, its profile.d scripts and the development variables.
 */
import assert from "node:assert/strict";
import { lstatSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { useFloxNode } from "../harness/e2e-node.js";
import { fixtureGeneration } from "../harness/flox-envs.js";
import { EMPTY_IMAGE_REF, FLOX_HANDLER, withFloxPod } from "../harness/flox-node.js";
import { setConfigKeys } from "../harness/node-config-edit.js";
import {
  type ContainerLog,
  type RunningPod,
  readContainerLog,
  removePod,
  runPod,
  waitForExit,
} from "../harness/pod.js";

// One node for the suite: containerd start and the fixture build cost seconds, the pods milliseconds.

const HOOK = ["echo hook-stdout", "echo hook-stderr >&2", 'export FROM_HOOK="hook saw $GREETING"'].join("\n");

const e2e = useFloxNode("activation", {
  environments: (fixtures) => {
    const { coreutils, bash, hello, libgreet, cacert, python3 } = fixtures.packages;
    const tlsCheck = fixtures.packages["tls-check"];
    const libgreetOutputs = {
      installId: "libgreet",
      path: libgreet,
      outputs: { out: libgreet, dev: fixtures.packages["libgreet-dev"] },
      outputsToInstall: ["out"],
    };
    const base = [
      { installId: "coreutils", path: coreutils },
      { installId: "bash", path: bash },
    ];
    return [
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
        generations: [
          fixtureGeneration([...base, { installId: "hello", path: hello }], { vars: { A: "a" } }),
        ],
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
          // bash: dev mode sources libgreet's profile.d script, which takes a shell.
          fixtureGeneration([...base, libgreetOutputs], { schemaVersion: "1.10.0" }),
        ],
      },
      {
        name: "libs-v1",
        generations: [fixtureGeneration([...base, libgreetOutputs])],
      },
      {
        name: "python",
        generations: [
          fixtureGeneration([
            { installId: "coreutils", path: coreutils },
            { installId: "python3", path: python3 },
          ]),
        ],
      },
      {
        name: "dev-by-manifest",
        generations: [
          fixtureGeneration([{ installId: "coreutils", path: coreutils }], { activateMode: "dev" }),
        ],
      },
      {
        name: "certs",
        generations: [
          fixtureGeneration([
            { installId: "coreutils", path: coreutils },
            { installId: "cacert", path: cacert },
            { installId: "tls-check", path: tlsCheck },
            // The same store path under a second install id builds (builder.pl links it once).
            { installId: "coreutils-again", path: coreutils },
          ]),
        ],
      },
      {
        name: "nocerts",
        generations: [
          fixtureGeneration([
            { installId: "coreutils", path: coreutils },
            { installId: "tls-check", path: tlsCheck },
          ]),
        ],
      },
      {
        name: "hook-rules",
        generations: [
          fixtureGeneration(base, {
            // Indented as a TOML multi-line string often is: the heredoc terminator works only outdented.
            hook: [
              "    cat <<EOF",
              "    from heredoc",
              "    EOF",
              "    cd /nix",
              "    umask 0077",
              '    export AFTER_CD="$PWD"',
              "    false",
            ].join("\n"),
          }),
        ],
      },
      {
        name: "hook-exits",
        generations: [fixtureGeneration(base, { hook: "echo leaving >&2\nexit 3" })],
      },
      {
        name: "counting",
        generations: [
          fixtureGeneration(base, {
            hook: 'echo started >>"$FLOX_ENV_CACHE/count"\nexport COUNTED="yes $$"',
          }),
        ],
      },
      {
        name: "services",
        generations: [
          fixtureGeneration([{ installId: "coreutils", path: coreutils }], {
            services: { web: "sleep 600", db: "sleep 600" },
          }),
        ],
      },
    ];
  },
});

/** Runs a one-container pod on the empty image and hands it to `check`; the pod is removed after. */
async function withPod(
  name: string,
  annotations: Record<string, string>,
  command: readonly string[],
  check: (pod: RunningPod, app: string) => Promise<void>,
): Promise<void> {
  await withFloxPod(e2e.node.cri, { name, annotations, command, logDir: e2e.node.logDir }, check);
}

/** Waits for the container to exit; its exit code and log. */
async function finished(pod: RunningPod, app: string): Promise<{ code: number; log: ContainerLog }> {
  assert.deepEqual(pod.startErrors, {});
  const code = await waitForExit(e2e.node.cri, app, 30_000);
  return { code, log: await readContainerLog(pod.logPaths["app"] ?? "") };
}

function bundleDir(containerId: string): string {
  return join(e2e.node.containerd.state, "io.containerd.runtime.v2.task", "k8s.io", containerId);
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

  it("execs the command in place of bash (same PID); ExecSync gets the hook's exports, not its output", async () => {
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
        const exec = await e2e.node.cri.execSync(app, ["sh", "-c", 'echo "$FROM_HOOK/$NOW"'], 20);
        assert.equal(exec.exitCode, 0);
        assert.equal(exec.stdout.toString(), "hook saw hello/shell-hello\n");
        assert.equal(exec.stderr.toString(), "", "the hook did not run again for the exec");
        const missing = await e2e.node.cri.execSync(app, ["no-such-tool"], 20);
        assert.equal(missing.exitCode, 127);
        assert.match(missing.stderr.toString(), /no-such-tool: command not found/);
      },
    );
  });

  it("leaves exec processes of a skip-containers-exec container outside the environment (no hook)", async () => {
    const pod = await runPod(e2e.node.cri, {
      name: "hooked-skip-exec",
      runtimeHandler: FLOX_HANDLER,
      annotations: { "flox.dev/environment": "acme/hooked:1", "flox.dev/skip-containers-exec": "app" },
      logDir: e2e.node.logDir,
      containers: [{ name: "app", image: "localhost/busybox:test", command: ["sleep", "600"] }],
    });
    try {
      assert.deepEqual(pod.startErrors, {});
      const app = pod.containers["app"] ?? "";
      const exec = await e2e.node.cri.execSync(app, ["sh", "-c", 'echo "${FROM_HOOK-unset}"'], 20);
      assert.equal(exec.stdout.toString(), "unset\n");
      assert.equal(exec.stderr.toString(), "", "the hook did not run");
    } finally {
      await removePod(e2e.node.cri, pod.podId);
    }
  });

  it("runs the command when the hook ends with a non-zero status (Flox ignores it)", async () => {
    await withPod(
      "failing",
      { "flox.dev/environment": "acme/failing:1" },
      ["sh", "-c", "echo ran"],
      async (pod, app) => {
        const { code, log } = await finished(pod, app);
        assert.equal(code, 0, log.stderr);
        assert.equal(log.stdout, "ran\n");
        assert.equal(log.stderr, "about to fail\n");
      },
    );
  });

  it("fails the container with exit code 1 and a message when the hook exits", async () => {
    await withPod(
      "hook-exits",
      { "flox.dev/environment": "acme/hook-exits:1" },
      ["sh", "-c", "echo ran"],
      async (pod, app) => {
        const { code, log } = await finished(pod, app);
        assert.equal(code, 1);
        assert.equal(log.stdout, "");
        assert.equal(
          log.stderr,
          "leaving\nimageless: hook.on-activate ended activation early (exit or exec): the command was not run\n",
        );
      },
    );
  });

  it("outdents the hook, and keeps its cd and umask from the command (only variables reach it)", async () => {
    await withPod(
      "hook-rules",
      { "flox.dev/environment": "acme/hook-rules:1" },
      ["sh", "-c", 'echo "$AFTER_CD|$PWD|$(pwd)|$(umask)"'],
      async (pod, app) => {
        const { code, log } = await finished(pod, app);
        assert.equal(code, 0, log.stderr);
        assert.equal(log.stdout, "/nix|/|/|0022\n");
        assert.equal(log.stderr, "from heredoc\n");
      },
    );
  });

  it("runs the hook once per container: ExecSync replays its exports without running it", async () => {
    await withPod(
      "counting",
      { "flox.dev/environment": "acme/counting:1" },
      ["sh", "-c", 'echo "main $COUNTED"; exec sleep 600'],
      async (pod, app) => {
        assert.deepEqual(pod.startErrors, {});
        const logPath = pod.logPaths["app"] ?? "";
        await waitFor(
          async () => (await readContainerLog(logPath)).stdout.startsWith("main yes"),
          "the start",
        );
        const main = (await readContainerLog(logPath)).stdout.trim().slice("main ".length);
        for (let i = 0; i < 3; i++) {
          const exec = await e2e.node.cri.execSync(app, ["sh", "-c", 'echo "$COUNTED"'], 20);
          assert.deepEqual(
            [exec.exitCode, exec.stdout.toString(), exec.stderr.toString()],
            [0, `${main}\n`, ""],
          );
        }
        const count = await e2e.node.cri.execSync(app, ["cat", "/var/cache/flox/count"], 20);
        assert.equal(count.stdout.toString(), "started\n");
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
      const env = await e2e.node.cri.execSync(app, ["sh", "-c", 'echo "$A"'], 20);
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
        assert.equal(pathExists(join(e2e.node.stateDir, "gcroots", app)), false, "no gc root left");
        assert.equal(pathExists(join(e2e.node.stateDir, "containers", `${app}.json`)), false, "no record");
      },
    );
    // The wrapper reads the node config at every call, so the change applies to the next pod.
    const original = await readFile(e2e.node.configPath, "utf8");
    await setConfigKeys(e2e.node.configPath, "runtime", { shell: e2e.fixtures.packages.bash });
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
          shellRoot = join(e2e.node.stateDir, "gcroots", `${app}.shell`);
          assert.ok(pathExists(shellRoot), "the configured bash is rooted while the container runs");
        },
      );
      assert.equal(pathExists(shellRoot), false, "and released on delete");
    } finally {
      await writeFile(e2e.node.configPath, original);
    }
  });
});

describe("flox.dev/activate-mode", () => {
  const probe = [
    "sh",
    "-c",
    'echo "CPATH=${CPATH-unset} PKG_CONFIG_PATH=${PKG_CONFIG_PATH-unset} PROFILE_D=${GREET_PROFILE_D-unset}"; ls "$FLOX_ENV/bin" "$FLOX_ENV/include" 2>&1; echo "FLOX_ENV=$FLOX_ENV"',
  ];

  async function runModes(env: string): Promise<Record<string, string>> {
    const outputs: Record<string, string> = {};
    for (const mode of ["run", "dev"]) {
      await withPod(
        `${env}-${mode}`,
        { "flox.dev/environment": `acme/${env}:1`, "flox.dev/activate-mode": mode },
        probe,
        async (pod, app) => {
          const { code, log } = await finished(pod, app);
          assert.equal(code, 0, log.stderr);
          outputs[mode] = log.stdout;
        },
      );
    }
    return outputs;
  }

  it("dev links what packages propagate, sources their profile.d and sets CPATH…; run does none of it", async () => {
    const outputs = await runModes("libs");
    const dev = outputs["dev"] ?? "";
    const run = outputs["run"] ?? "";
    const devEnv = /FLOX_ENV=(\S+)/.exec(dev)?.[1] ?? "?";
    assert.match(devEnv, /-flox-env-dev$/);
    assert.match(dev, new RegExp(`CPATH=${devEnv}/include `));
    assert.match(dev, new RegExp(`PKG_CONFIG_PATH=${devEnv}/lib/pkgconfig:${devEnv}/share/pkgconfig `));
    assert.match(dev, new RegExp(`PROFILE_D=sourced with FLOX_ENV=${devEnv}\n`));
    assert.match(dev, /\bgreet\n/, "greeting, propagated by libgreet, is linked in dev");
    // outputs_to_install is ["out"]: the dev output is linked in neither mode (schema-version manifest).
    assert.doesNotMatch(dev, /greet\.h/);
    assert.match(run, /CPATH=unset PKG_CONFIG_PATH=unset PROFILE_D=unset/);
    assert.doesNotMatch(run, /\bgreet\n/);
    assert.match(run, /-flox-env-run\n$/);
  });

  it("links every output of a version 1 manifest in both modes (the others below the installed ones)", async () => {
    const outputs = await runModes("libs-v1");
    assert.match(outputs["run"] ?? "", /greet\.h/);
    assert.match(outputs["dev"] ?? "", /greet\.h/);
  });

  it("sets PYTHONPATH for python3's version and PIP_CONFIG_FILE (with its pip.ini) in dev mode only", async () => {
    const show = [
      "sh",
      "-c",
      'echo "${PYTHONPATH-unset}|${PIP_CONFIG_FILE-unset}"; cat "${PIP_CONFIG_FILE:-/dev/null}"',
    ];
    for (const mode of ["run", "dev"]) {
      await withPod(
        `python-${mode}`,
        { "flox.dev/environment": "acme/python:1", "flox.dev/activate-mode": mode },
        [...show, ""],
        async (pod, app) => {
          const { code, log } = await finished(pod, app);
          assert.equal(code, 0, log.stderr);
          if (mode === "run") assert.equal(log.stdout, "unset|unset\n");
          else {
            assert.match(
              log.stdout,
              /^\/nix\/store\/[a-z0-9]{32}-flox-env-dev\/lib\/python3\.11\/site-packages\|\/var\/cache\/flox\/pip\.ini\n\[global\]\nrequire-virtualenv = true\n$/,
            );
          }
        },
      );
    }
  });

  it("uses the manifest's options.activate.mode when the pod has no annotation", async () => {
    await withPod(
      "dev-by-manifest",
      { "flox.dev/environment": "acme/dev-by-manifest" },
      ["sh", "-c", 'echo "$FLOX_ENV|$_FLOX_ACTIVE_ENVIRONMENTS"'],
      async (pod, app) => {
        const { code, log } = await finished(pod, app);
        assert.equal(code, 0, log.stderr);
        const [floxEnv, active] = log.stdout.trim().split("|");
        assert.match(floxEnv ?? "", /-flox-env-dev$/);
        // A live (unpinned) reference: no generation, as Flox writes it without -g.
        const [entry] = JSON.parse(active ?? "");
        assert.deepEqual(Object.keys(entry), ["environment", "mode"]);
        assert.equal(entry.mode, "dev");
      },
    );
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

describe("certificates and locale (Flox's envrc defaults)", () => {
  it("points SSL_CERT_FILE and NIX_SSL_CERT_FILE at the environment's CA bundle on the empty image", async () => {
    await withPod(
      "certs",
      { "flox.dev/environment": "acme/certs:1" },
      ["sh", "-c", 'tls-check; echo "$NIX_SSL_CERT_FILE"'],
      async (pod, app) => {
        const { code, log } = await finished(pod, app);
        assert.equal(code, 0, log.stderr);
        assert.match(
          log.stdout,
          /^(\/nix\/store\/[a-z0-9]{32}-flox-env-run\/etc\/ssl\/certs\/ca-bundle\.crt) [1-9][0-9]* certificates\n\1\n$/,
        );
      },
    );
  });

  it("keeps the container's own SSL_CERT_FILE", async () => {
    const pod = await runPod(e2e.node.cri, {
      name: "certs-own",
      runtimeHandler: FLOX_HANDLER,
      annotations: { "flox.dev/environment": "acme/certs:1" },
      logDir: e2e.node.logDir,
      containers: [
        {
          name: "app",
          image: EMPTY_IMAGE_REF,
          command: ["sh", "-c", 'echo "$SSL_CERT_FILE|$NIX_SSL_CERT_FILE"'],
          env: { SSL_CERT_FILE: "/etc/own/ca.pem" },
        },
      ],
    });
    try {
      const { code, log } = await finished(pod, pod.containers["app"] ?? "");
      assert.equal(code, 0, log.stderr);
      assert.equal(log.stdout, "/etc/own/ca.pem|/etc/own/ca.pem\n");
    } finally {
      await removePod(e2e.node.cri, pod.podId);
    }
  });

  it("falls back to [runtime] cacert of the node config, then sets nothing", async () => {
    await withPod(
      "nocerts",
      { "flox.dev/environment": "acme/nocerts:1" },
      ["tls-check"],
      async (pod, app) => {
        const { code, log } = await finished(pod, app);
        assert.equal(code, 1);
        assert.equal(log.stderr, "tls-check: no CA bundle at SSL_CERT_FILE=\n");
      },
    );
    const original = await readFile(e2e.node.configPath, "utf8");
    await setConfigKeys(e2e.node.configPath, "runtime", { cacert: e2e.fixtures.packages.cacert });
    try {
      await withPod(
        "nocerts-node",
        { "flox.dev/environment": "acme/nocerts:1" },
        ["sh", "-c", "tls-check && exec sleep 600"],
        async (pod, app) => {
          assert.deepEqual(pod.startErrors, {});
          const logPath = pod.logPaths["app"] ?? "";
          await waitFor(async () => (await readContainerLog(logPath)).stdout !== "", "tls-check's output");
          assert.match(
            (await readContainerLog(logPath)).stdout,
            new RegExp(
              `^${e2e.fixtures.packages.cacert}/etc/ssl/certs/ca-bundle.crt [1-9][0-9]* certificates\n$`,
            ),
          );
          // The node's bundle is not in the environment's closure: the container roots it while it runs.
          assert.ok(
            pathExists(join(e2e.node.stateDir, "gcroots", `${app}.cacert`)),
            "the node's bundle is rooted",
          );
        },
      );
    } finally {
      await writeFile(e2e.node.configPath, original);
    }
  });
});

describe("what is not supported says so", () => {
  it("starts the command of a manifest with [services] after one warning line naming them", async () => {
    await withPod(
      "services",
      { "flox.dev/environment": "acme/services:1" },
      ["sh", "-c", "echo ran"],
      async (pod, app) => {
        const { code, log } = await finished(pod, app);
        assert.equal(code, 0, log.stderr);
        assert.equal(log.stdout, "ran\n");
        assert.equal(
          log.stderr,
          "imageless: warning: [services] are not supported: not started: db, web; the command runs without them\n",
        );
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
