/**
 * deploy/: the RuntimeClass is the one `imageless node runtimeclass` renders, the DaemonSet gives its
 * container the host at /host, and the container's entrypoint installs onto a host root exactly as
 * the DaemonSet would see the node, then stays (or hands over to the node agent once there is one).
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { access, chmod, constants, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "smol-toml";
import { floxRuntimeTable, tableAt } from "../../src/node/install/containerd-config-edit.js";
import { renderRuntimeClass } from "../../src/node/runtime-class.js";
import { containerdFixturesDir, repoRoot } from "../harness/repo-root.js";
import { makeTempDir, removeTree } from "../harness/temp.js";

const DEPLOY = join(repoRoot(), "deploy");
let work: string;
before(async () => {
  work = await makeTempDir("deploy");
});
after(async () => {
  await removeTree(work);
});

/** Runs the entrypoint; resolves with its output once `until` appears in stdout (or it exits). */
function startEntrypoint(env: Record<string, string>, until: RegExp) {
  const child: ChildProcess = spawn(join(DEPLOY, "entrypoint.sh"), [], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const ready = new Promise<void>((resolve) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (until.test(stdout)) resolve();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    void exited.then(() => resolve());
  });
  return { child, ready, exited, output: () => ({ stdout, stderr }) };
}

describe("deploy/", () => {
  it("runtimeclass.yaml is what `imageless node runtimeclass` prints", async () => {
    assert.equal(await readFile(join(DEPLOY, "runtimeclass.yaml"), "utf8"), renderRuntimeClass());
  });

  it("the DaemonSet runs the entrypoint privileged on labelled nodes, with the host's / at /host", async () => {
    const text = await readFile(join(DEPLOY, "daemonset.yaml"), "utf8");
    for (const line of [
      "kind: DaemonSet",
      '        flox.dev/enabled: "true"',
      "      hostPID: true",
      '          command: ["/opt/imageless-image/deploy/entrypoint.sh"]',
      "            - name: IMAGELESS_HOST_ROOT\n              value: /host",
      "            privileged: true",
      "            - name: host\n              mountPath: /host",
      "          hostPath:\n            path: /\n            type: Directory",
    ]) {
      assert.ok(text.includes(`\n${line}\n`), `daemonset.yaml lacks:\n${line}`);
    }
  });

  it("the entrypoint installs onto the host root, stays up, and stops cleanly on SIGTERM", async () => {
    const host = join(work, "host");
    const config = await readFile(
      join(containerdFixturesDir(), "default-config-containerd-1.6.20.toml"),
      "utf8",
    );
    await mkdir(join(host, "etc", "containerd"), { recursive: true });
    await writeFile(join(host, "etc", "containerd", "config.toml"), config);
    const run = startEntrypoint(
      {
        IMAGELESS_HOST_ROOT: host,
        IMAGELESS_BIN: join(repoRoot(), "bin", "imageless"),
        IMAGELESS_INSTALL_ARGS: "--no-restart",
      },
      /staying idle\n/,
    );
    try {
      await run.ready;
      const { stdout } = run.output();
      assert.match(
        stdout,
        /\/etc\/containerd\/config\.toml: added the flox runtime \(backup: \/etc\/containerd\/config\.toml\.bak\.1\)\n/,
      );
      assert.match(stdout, /imageless: installed; no node agent in this build, staying idle\n$/);
      const edited = parse(await readFile(join(host, "etc", "containerd", "config.toml"), "utf8"));
      assert.equal(
        tableAt(floxRuntimeTable(edited, 2) ?? {}, ["options"])?.["BinaryName"],
        "/opt/imageless/bin/imageless-runc",
      );
      await access(join(host, "opt", "imageless", "bin", "imageless-runc"), constants.X_OK);
      assert.equal(run.child.exitCode, null, "the container stays up after installing");
    } finally {
      run.child.kill("SIGTERM");
    }
    assert.equal(await run.exited, 0);
  });

  it("the entrypoint hands over to `imageless node agent` when the build has one", async () => {
    // A fake CLI: records its arguments; knows `node agent`.
    const fake = join(work, "fake-imageless");
    const calls = join(work, "calls");
    await writeFile(
      fake,
      `#!/bin/sh\necho "$*" >> ${calls}\ncase "$*" in\n"node --help") printf '  install\\n  agent   serve the node\\n' ;;\n"node agent") echo agent serving ;;\nesac\n`,
    );
    await chmod(fake, 0o755);
    const run = startEntrypoint({ IMAGELESS_HOST_ROOT: "/host", IMAGELESS_BIN: fake }, /agent serving\n/);
    assert.equal(await run.exited, 0);
    assert.equal(run.output().stdout, "agent serving\n");
    assert.equal(await readFile(calls, "utf8"), "node install --host-root /host\nnode --help\nnode agent\n");
  });
});
