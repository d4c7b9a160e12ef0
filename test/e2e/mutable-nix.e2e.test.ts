/**
 * `flox.dev/nix-mutable` through containerd and CRI (SPEC §6): `/nix` is a read-only bind by
 * default; with "true" it is an overlay whose upper layer is private to the container, removed with
 * it, and the node's store is never written.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { lstat, readdir, readFile, readlink } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { useFloxNode } from "../harness/e2e-node.js";
import { fixtureGeneration } from "../harness/flox-envs.js";
import { EMPTY_IMAGE_REF, FLOX_HANDLER } from "../harness/flox-node.js";
import { type RunningPod, removePod, runPod } from "../harness/pod.js";

const e2e = useFloxNode("mutable", {
  environments: ({ packages: { coreutils, hello } }) => [
    {
      name: "tools",
      generations: [
        fixtureGeneration([
          { installId: "coreutils", path: coreutils },
          { installId: "hello", path: hello },
        ]),
      ],
    },
  ],
});

async function startPod(name: string, mutable?: string): Promise<RunningPod> {
  const pod = await runPod(e2e.node.cri, {
    name,
    runtimeHandler: FLOX_HANDLER,
    annotations: {
      "flox.dev/environment": "acme/tools:1",
      ...(mutable === undefined ? {} : { "flox.dev/nix-mutable": mutable }),
    },
    logDir: e2e.node.logDir,
    containers: [{ name: "app", image: EMPTY_IMAGE_REF, command: ["sleep", "600"] }],
  });
  assert.deepEqual(pod.startErrors, {});
  return pod;
}

async function sh(containerId: string, script: string) {
  const result = await e2e.node.cri.execSync(containerId, ["sh", "-c", script], 20);
  return { code: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

/** A digest of every entry under the node's /nix/store: name, type, mode, size, mtime, link target. */
async function storeDigest(): Promise<string> {
  const hash = createHash("sha256");
  const walk = async (dir: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name);
      const info = await lstat(path);
      hash.update(`${path}\0${info.mode}\0${info.size}\0${info.mtimeMs}\0`);
      if (info.isSymbolicLink()) hash.update(await readlink(path));
      else if (info.isDirectory()) await walk(path);
    }
  };
  await walk(join(e2e.node.storeRoot, "nix", "store"));
  return hash.digest("hex");
}

function overlayDir(containerId: string): string {
  return join(e2e.node.stateDir, "overlay", containerId);
}

describe("flox.dev/nix-mutable", () => {
  it("keeps /nix read-only by default", async () => {
    const pod = await startPod("default-ro");
    try {
      const app = pod.containers["app"] ?? "";
      const write = await sh(app, "touch /nix/store/imageless-write");
      assert.notEqual(write.code, 0);
      assert.match(write.stderr, /Read-only file system/);
      assert.notEqual((await sh(app, "mkdir /nix/var/imageless")).code, 0);
      assert.equal(existsSync(overlayDir(app)), false, "no overlay for a read-only /nix");
    } finally {
      await removePod(e2e.node.cri, pod.podId);
    }
  });

  it("gives each mutable container a private writable /nix, never writing the node's store", async () => {
    const { hello } = e2e.fixtures.packages;
    const first = await startPod("mutable-a", "true");
    let second: RunningPod | undefined;
    try {
      const a = first.containers["app"] ?? "";
      second = await startPod("mutable-b", "TRUE");
      const b = second.containers["app"] ?? "";
      const before = await storeDigest();
      const helloOnNode = await readFile(join(e2e.node.storeRoot, hello, "bin", "hello"), "utf8");

      const write = await sh(
        a,
        `echo data > /nix/store/imageless-write && echo 'echo changed' >> ${hello}/bin/hello && mkdir -p /nix/var/mine && cat /nix/store/imageless-write && hello`,
      );
      assert.equal(write.code, 0, write.stderr);
      assert.equal(write.stdout, "data\nHello, world!\nchanged\n");
      assert.ok(
        existsSync(join(overlayDir(a), "upper", "store", "imageless-write")),
        "the write is in A's upper layer",
      );

      const other = await sh(b, "cat /nix/store/imageless-write; hello");
      assert.match(other.stderr, /No such file/);
      assert.equal(other.stdout, "Hello, world!\n", "B sees the store as the node has it");

      assert.equal(await storeDigest(), before, "the node's store is unchanged");
      assert.equal(await readFile(join(e2e.node.storeRoot, hello, "bin", "hello"), "utf8"), helloOnNode);

      await removePod(e2e.node.cri, first.podId);
      assert.equal(existsSync(overlayDir(a)), false, "A's overlay dirs are removed with it");
      assert.ok(existsSync(overlayDir(b)), "B's overlay is still there");
      await removePod(e2e.node.cri, second.podId);
      second = undefined;
      assert.equal(existsSync(overlayDir(b)), false);
    } finally {
      await removePod(e2e.node.cri, first.podId).catch(() => undefined);
      if (second !== undefined) await removePod(e2e.node.cri, second.podId);
    }
  });

  it("fails StartContainer for a value that is not a boolean", async () => {
    const pod = await runPod(e2e.node.cri, {
      name: "mutable-bad",
      runtimeHandler: FLOX_HANDLER,
      annotations: { "flox.dev/environment": "acme/tools:1", "flox.dev/nix-mutable": "yes" },
      logDir: e2e.node.logDir,
      containers: [{ name: "app", image: EMPTY_IMAGE_REF, command: ["true"] }],
    });
    try {
      assert.match(
        pod.startErrors["app"] ?? "",
        /imageless: annotation flox\.dev\/nix-mutable: cannot use "yes"/,
      );
    } finally {
      await removePod(e2e.node.cri, pod.podId);
    }
  });
});
