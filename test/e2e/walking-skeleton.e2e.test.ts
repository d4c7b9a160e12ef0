import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { queryClosure } from "../../src/nix/closure.js";
import { serveBinaryCache } from "../harness/binary-cache-server.js";
import { useFloxNode } from "../harness/e2e-node.js";
import { helloGeneration } from "../harness/flox-envs.js";
import { EMPTY_IMAGE_REF, FLOX_HANDLER, startFloxNode } from "../harness/flox-node.js";
import { readContainerLog, removePod, runPod, waitForExit } from "../harness/pod.js";
import { repoRoot } from "../harness/repo-root.js";

const run = promisify(execFile);

// One node for the suite: containerd start and the fixture build cost seconds, the pods milliseconds.

const e2e = useFloxNode("skeleton", {
  environments: ({ packages: { hello, hello2, coreutils } }) => [
    {
      name: "hello",
      generations: [
        helloGeneration({ hello, coreutils }),
        helloGeneration(
          { hello: hello2, coreutils },
          { vars: { GREETING: "generation two of $FLOX_ENV_DESCRIPTION" } },
        ),
      ],
    },
  ],
});

/** The config.json containerd and runc used for a container (the wrapper edits it in place). */
async function bundleSpec(containerId: string): Promise<{
  mounts?: { destination: string }[];
  annotations?: Record<string, string>;
  process?: { env?: string[] };
}> {
  const path = join(
    e2e.node.containerd.state,
    "io.containerd.runtime.v2.task",
    "k8s.io",
    containerId,
    "config.json",
  );
  return JSON.parse(await readFile(path, "utf8"));
}

/** The node log's `realise.*` events (of one container), without what differs run to run (time, pid). */
async function realiseEvents(containerId?: string): Promise<Record<string, unknown>[]> {
  const lines = (await readFile(e2e.node.runtimeLog, "utf8")).split("\n").filter((line) => line !== "");
  return lines
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((e) => String(e["event"]).startsWith("realise."))
    .filter((e) => containerId === undefined || e["container"] === containerId)
    .map(({ time: _time, pid: _pid, ...rest }) => rest);
}

/**
 * `imageless pod run` of a pod of acme/hello:1 with a terminal (util-linux `script`), then its
 * removal; returns what the terminal showed (stdout and stderr together).
 */
async function podRunOnTerminal(name: string, flags: readonly string[]): Promise<string> {
  return (await podRun(name, flags, { env: "acme/hello:1", terminal: true })).stdout;
}

/** `imageless pod run` of a pod of `env`, on a terminal or not (its stdout and stderr pipes), then `pod rm`. */
async function podRun(
  name: string,
  flags: readonly string[],
  opts: { readonly env: string; readonly terminal: boolean },
): Promise<{ stdout: string; stderr: string }> {
  const manifest = join(e2e.work, `${name}.yaml`);
  await writeFile(
    manifest,
    [
      "apiVersion: v1",
      "kind: Pod",
      `metadata: { name: ${name}, annotations: { flox.dev/environment: "${opts.env}" } }`,
      "spec:",
      `  runtimeClassName: ${FLOX_HANDLER}`,
      `  containers: [{ name: app, image: ${EMPTY_IMAGE_REF}, command: [hello] }]`,
      "",
    ].join("\n"),
  );
  const socket = ["--containerd-socket", e2e.node.containerd.socket];
  const argv = [
    "pod",
    "run",
    manifest,
    ...socket,
    "--log-dir",
    e2e.node.logDir,
    "--node-config",
    e2e.node.configPath,
  ];
  const command = [join(repoRoot(), "bin", "imageless"), ...argv, ...flags];
  try {
    if (!opts.terminal) return await run(command[0] ?? "", command.slice(1));
    const { stdout, stderr } = await run("script", ["-qec", command.map(shellQuote).join(" "), "/dev/null"]);
    return { stdout: stdout.replaceAll("\r\n", "\n"), stderr };
  } finally {
    const rm = [join(repoRoot(), "bin", "imageless"), "pod", "rm", name, ...socket];
    await run(rm[0] ?? "", rm.slice(1)).catch(() => undefined);
  }
}

/** The lines of pod run's terminal output that are not its result (the pod and container lines). */
function progressShown(terminal: string): string[] {
  return terminal
    .split("\n")
    .filter(
      (line) => line !== "" && !/^pod \S+ started in /.test(line) && !/^ {2}(app|init) container /.test(line),
    )
    .sort((a, b) =>
      a.startsWith(" ") === b.startsWith(" ") ? a.localeCompare(b) : a.startsWith(" ") ? 1 : -1,
    );
}

function shellQuote(word: string): string {
  return `'${word.replaceAll("'", "'\\''")}'`;
}

/** Nix's `%.2f MiB` of a byte count, back in bytes, as the runtime logs it. */
function nixMiB(bytes: number): number {
  return Math.round(Number((bytes / (1024 * 1024)).toFixed(2)) * 1024 * 1024);
}

/** The sizes the fixture cache's narinfos give for `paths`. */
async function narinfoSizes(paths: readonly string[]): Promise<{ download: number; unpacked: number }> {
  let download = 0;
  let unpacked = 0;
  for (const path of paths) {
    const hash = path.slice("/nix/store/".length, "/nix/store/".length + 32);
    const narinfo = await readFile(join(e2e.node.fixtures.cacheDir, `${hash}.narinfo`), "utf8");
    download += Number(/^FileSize: (\d+)$/m.exec(narinfo)?.[1]);
    unpacked += Number(/^NarSize: (\d+)$/m.exec(narinfo)?.[1]);
  }
  return { download, unpacked };
}

describe("a pod on the flox runtime", () => {
  it("shows a first start's downloads on a terminal from the node log (realise.*), and nothing for a warm start or --json", async () => {
    const { hello, coreutils } = e2e.node.fixtures.packages;
    const closure = [...(await queryClosure([hello, coreutils], e2e.node.fixtures.buildStore))].sort();
    // `script` gives imageless pod run a terminal, as a person has; its output is the terminal's.
    const first = await podRunOnTerminal("progress-first", []);
    const started = (await realiseEvents()).find((e) => e["event"] === "realise.started");
    const container = String(started?.["container"]);
    const events = await realiseEvents(container);
    const sizes = await narinfoSizes(closure);
    const base = { level: "info", container, env: "acme/hello:1" };
    assert.deepEqual(events[0], {
      ...base,
      event: "realise.started",
      paths: closure.length,
      downloadBytes: nixMiB(sizes.download),
      unpackedBytes: nixMiB(sizes.unpacked),
    });
    // Nix copies in parallel: the order of the paths is its own.
    assert.deepEqual(
      events.slice(1).sort((a, b) => String(a["path"]).localeCompare(String(b["path"]))),
      closure.map((path) => ({ ...base, event: "realise.path", path })),
    );
    const mib = (nixMiB(sizes.download) / (1024 * 1024)).toFixed(1);
    assert.deepEqual(progressShown(first), [
      `acme/hello:1: fetching ${closure.length} paths (${mib} MiB) …`,
      ...closure.map((path) => `  ${path}`),
    ]);

    const warm = await podRunOnTerminal("progress-warm", ["--json"]);
    const warmId = (JSON.parse(warm.slice(warm.indexOf("{"))) as { containers: { id: string }[] })
      .containers[0]?.id;
    assert.ok(warmId !== undefined && warmId !== container);
    assert.deepEqual(await realiseEvents(warmId), []);

    // A first start (generation 2's hello) whose stderr is a pipe: the downloads are logged, not shown.
    const piped = await podRun("progress-piped", [], { env: "acme/hello:2", terminal: false });
    assert.ok(
      (await realiseEvents()).some(
        (e) => e["event"] === "realise.path" && e["path"] === e2e.node.fixtures.packages.hello2,
      ),
    );
    assert.equal(piped.stderr, "");
    assert.match(piped.stdout, /^pod progress-piped started in \d+ ms/);
  });

  it("runs a package binary from the environment, its output in the container log", async () => {
    const pod = await runPod(e2e.node.cri, {
      name: "hello-live",
      runtimeHandler: FLOX_HANDLER,
      annotations: { "flox.dev/environment": "acme/hello:1" },
      logDir: e2e.node.logDir,
      containers: [{ name: "app", image: EMPTY_IMAGE_REF, command: ["hello"] }],
    });
    try {
      assert.deepEqual(pod.startErrors, {});
      const app = pod.containers["app"] ?? "";
      assert.equal(await waitForExit(e2e.node.cri, app, 30_000), 0);
      const log = await readContainerLog(pod.logPaths["app"] ?? "");
      assert.equal(log.stdout.trim(), "Hello, world!");
    } finally {
      await removePod(e2e.node.cri, pod.podId);
    }
  });

  it("gives ExecSync the environment: $FLOX_ENV/bin first on PATH and package binaries runnable", async () => {
    const pod = await runPod(e2e.node.cri, {
      name: "hello-exec",
      runtimeHandler: FLOX_HANDLER,
      annotations: { "flox.dev/environment": "acme/hello:1" },
      logDir: e2e.node.logDir,
      containers: [{ name: "app", image: EMPTY_IMAGE_REF, command: ["sleep", "600"] }],
    });
    try {
      assert.deepEqual(pod.startErrors, {});
      const app = pod.containers["app"] ?? "";
      const path = await e2e.node.cri.execSync(app, ["sh", "-c", 'echo "$PATH"'], 20);
      assert.equal(path.exitCode, 0);
      const floxEnv = await e2e.node.cri.execSync(app, ["sh", "-c", 'echo "$FLOX_ENV"'], 20);
      const env = floxEnv.stdout.toString().trim();
      assert.match(env, /^\/nix\/store\/[a-z0-9]{32}-flox-env-run$/);
      assert.ok(
        path.stdout.toString().startsWith(`${env}/bin:`),
        `PATH starts with $FLOX_ENV/bin: ${path.stdout}`,
      );
      const hello = await e2e.node.cri.execSync(app, ["hello"], 20);
      assert.equal(hello.stdout.toString().trim(), "Hello, world!");
      // /nix is the node's store, read-only.
      const write = await e2e.node.cri.execSync(app, ["touch", "/nix/store/x"], 20);
      assert.notEqual(write.exitCode, 0);
    } finally {
      await removePod(e2e.node.cri, pod.podId);
    }
  });

  it("runs generation 1 for owner/name:1 and the live generation 2 for owner/name", async () => {
    const outputs: Record<string, string> = {};
    for (const [label, ref] of [
      ["pinned", "acme/hello:1"],
      ["live", "acme/hello"],
    ] as const) {
      const pod = await runPod(e2e.node.cri, {
        name: `hello-${label}`,
        runtimeHandler: FLOX_HANDLER,
        annotations: { "flox.dev/environment": ref },
        logDir: e2e.node.logDir,
        containers: [
          { name: "app", image: EMPTY_IMAGE_REF, command: ["sh", "-c", 'hello; echo "$GREETING"'] },
        ],
      });
      try {
        assert.deepEqual(pod.startErrors, {});
        assert.equal(await waitForExit(e2e.node.cri, pod.containers["app"] ?? "", 30_000), 0);
        outputs[label] = (await readContainerLog(pod.logPaths["app"] ?? "")).stdout.trim();
      } finally {
        await removePod(e2e.node.cri, pod.podId);
      }
    }
    assert.equal(outputs["pinned"], "Hello, world!");
    assert.equal(outputs["live"], "Hello, world! (v2)\ngeneration two of acme/hello");
  });

  it("leaves the sandbox and a container without flox.dev/environment unmodified", async () => {
    const pod = await runPod(e2e.node.cri, {
      name: "plain",
      runtimeHandler: FLOX_HANDLER,
      logDir: e2e.node.logDir,
      containers: [{ name: "app", image: "localhost/busybox:test", command: ["sleep", "600"] }],
    });
    try {
      assert.deepEqual(pod.startErrors, {});
      const app = pod.containers["app"] ?? "";
      const spec = await bundleSpec(app);
      assert.equal(
        spec.mounts?.some((m) => m.destination === "/nix"),
        false,
      );
      assert.equal(
        Object.keys(spec.annotations ?? {}).some((k) => k.startsWith("flox.dev/")),
        false,
      );
      const sandbox = await bundleSpec(pod.podId);
      assert.equal(
        sandbox.mounts?.some((m) => m.destination === "/nix"),
        false,
      );
      const env = await e2e.node.cri.execSync(app, ["env"], 20);
      assert.doesNotMatch(env.stdout.toString(), /FLOX_ENV/);
      assert.equal(existsSync(join(e2e.node.stateDir, "containers", `${app}.json`)), false);
    } finally {
      await removePod(e2e.node.cri, pod.podId);
    }
  });

  for (const value of ["no-slash", "a/b:0", "a/b:x"]) {
    it(`fails StartContainer for flox.dev/environment=${JSON.stringify(value)}, naming both, leaving nothing behind`, async () => {
      const pod = await runPod(e2e.node.cri, {
        name: `bad-${value.replace(/[^a-z0-9]/g, "-")}`,
        runtimeHandler: FLOX_HANDLER,
        annotations: { "flox.dev/environment": value },
        logDir: e2e.node.logDir,
        containers: [{ name: "app", image: EMPTY_IMAGE_REF, command: ["hello"] }],
      });
      try {
        const error = pod.startErrors["app"] ?? "";
        assert.match(
          error,
          /OCI runtime create failed: imageless: annotation flox\.dev\/environment: cannot use/,
        );
        assert.ok(error.includes(JSON.stringify(value)), error);
        const records = existsSync(join(e2e.node.stateDir, "containers"))
          ? await readdir(join(e2e.node.stateDir, "containers"))
          : [];
        assert.ok(
          !records.some((file) => file.startsWith(pod.containers["app"] ?? "?")),
          "no container record",
        );
        const roots = existsSync(join(e2e.node.stateDir, "gcroots"))
          ? await readdir(join(e2e.node.stateDir, "gcroots"))
          : [];
        assert.ok(!roots.includes(pod.containers["app"] ?? "?"), "no gc root");
      } finally {
        await removePod(e2e.node.cri, pod.podId);
      }
    });
  }
});

describe("two pods starting the same uncached environment at once", () => {
  it("both run, with one download per store path", async () => {
    const cache = await serveBinaryCache(e2e.node.fixtures.cacheDir, { narDelayMs: 300 });
    const second = await startFloxNode({
      gitUrl: e2e.gitUrl,
      substituter: cache.url,
      fixtures: e2e.node.fixtures,
    });
    try {
      const start = (name: string) =>
        runPod(second.cri, {
          name,
          runtimeHandler: FLOX_HANDLER,
          annotations: { "flox.dev/environment": "acme/hello:1" },
          logDir: second.logDir,
          containers: [{ name: "app", image: EMPTY_IMAGE_REF, command: ["hello"] }],
        });
      const pods = await Promise.all([start("twin-a"), start("twin-b")]);
      try {
        for (const pod of pods) {
          assert.deepEqual(pod.startErrors, {});
          assert.equal(await waitForExit(second.cri, pod.containers["app"] ?? "", 30_000), 0);
          assert.equal((await readContainerLog(pod.logPaths["app"] ?? "")).stdout.trim(), "Hello, world!");
        }
        const nars = [...cache.requests].filter(([path]) => path.includes("nar/"));
        assert.ok(nars.length >= 3, `nars were downloaded: ${JSON.stringify(nars)}`);
        for (const [path, count] of nars) assert.equal(count, 1, `${path} downloaded ${count} times`);
      } finally {
        for (const pod of pods) await removePod(second.cri, pod.podId);
      }
    } finally {
      await second.stop();
      await cache.close();
    }
  });
});
