/**
 * `imageless node install` / `uninstall` into temporary host roots (`--host-root`), as the
 * DaemonSet's container sees the node at /host: the files a node ends up with, byte for byte.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import {
  access,
  constants,
  cp,
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  rm,
  symlink,
  writeFile,
} from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { parse } from "smol-toml";
import { ImagelessError } from "../../src/errors/imageless-error.js";
import { parseNodeConfig } from "../../src/node/config.js";
import { saveContainerRecord } from "../../src/node/container-state.js";
import { floxRuntimeTable, tableAt } from "../../src/node/install/containerd-config-edit.js";
import { runDoctor } from "../../src/node/install/doctor.js";
import { type InstallOptions, installNode } from "../../src/node/install/install.js";
import { uninstallNode } from "../../src/node/install/uninstall.js";
import { containerdFixturesDir, repoRoot } from "../harness/repo-root.js";
import { makeTempDir, removeTree } from "../harness/temp.js";

const run = promisify(execFile);
const DEFAULT_1_6 = await readFile(
  join(containerdFixturesDir(), "default-config-containerd-1.6.20.toml"),
  "utf8",
);
const WRAPPER = "/opt/imageless/bin/imageless-runc";

let work: string;
before(async () => {
  work = await makeTempDir("node-install");
});
after(async () => {
  await removeTree(work);
});

let hosts = 0;
/** A fresh host root holding `files` (host path → content). */
async function hostWith(files: Readonly<Record<string, string>>): Promise<string> {
  const root = join(work, `host-${++hosts}`);
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(root, path, ".."), { recursive: true });
    await writeFile(join(root, path), text);
  }
  return root;
}

function options(hostRoot: string, extra: Partial<InstallOptions> = {}): InstallOptions {
  return {
    hostRoot,
    prefix: "/opt/imageless",
    nodeConfigPath: "/etc/imageless/config.toml",
    source: repoRoot(),
    dryRun: false,
    restart: false,
    ...extra,
  };
}

const uninstallOptions = (hostRoot: string, force = false) => ({
  hostRoot,
  prefix: "/opt/imageless",
  nodeConfigPath: "/etc/imageless/config.toml",
  force,
  restart: false,
});

/**
 * Every path under `root` with its content hash (or link target), skipping the inside of releases
 * (thousands of files; their names and the `.complete` marker are listed).
 */
async function snapshot(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(dir: string, rel: string): Promise<void> {
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name);
      const key = `${rel}/${name}`;
      const info = await lstat(path);
      if (info.isSymbolicLink()) out[key] = `-> ${await readlink(path)}`;
      else if (info.isDirectory()) {
        out[key] = "dir";
        if (!/^\/opt\/imageless\/releases\/[^/]+$/.test(key)) await walk(path, key);
      } else
        out[key] = `${(info.mode & 0o777).toString(8)} ${createHash("sha256")
          .update(await readFile(path))
          .digest("hex")}`;
    }
  }
  await walk(root, "");
  return out;
}

describe("node install into a host root (containerd 1.6 default config)", () => {
  let host: string;
  let first: Awaited<ReturnType<typeof installNode>>;
  let before1: Record<string, string>;
  before(async () => {
    host = await hostWith({ "/etc/containerd/config.toml": DEFAULT_1_6 });
    before1 = await snapshot(host);
    first = await installNode(options(host));
  });

  it("adds the flox runtime after the unchanged original and backs the original up", async () => {
    const config = await readFile(join(host, "etc/containerd/config.toml"), "utf8");
    assert.ok(config.startsWith(`${DEFAULT_1_6}\n# imageless: the flox runtime handler`));
    const flox = floxRuntimeTable(parse(config), 2);
    assert.deepEqual(
      JSON.parse(JSON.stringify({ ...flox, options: tableAt(flox ?? {}, ["options"])?.["BinaryName"] })),
      {
        runtime_type: "io.containerd.runc.v2",
        pod_annotations: ["flox.dev/*"],
        container_annotations: ["flox.dev/*"],
        options: WRAPPER,
      },
    );
    assert.equal(await readFile(join(host, "etc/containerd/config.toml.bak.1"), "utf8"), DEFAULT_1_6);
    assert.equal(first.changed, true);
  });

  it("installs the wrapper at the BinaryName path, runnable, resolving into the current release", async () => {
    await access(join(host, WRAPPER), constants.X_OK);
    const current = await readlink(join(host, "opt/imageless/current"));
    assert.match(current, /^releases\/0\.1\.0-[0-9a-f]{12}$/);
    assert.equal(await readlink(join(host, "opt/imageless/bin")), "current/bin");
    // The installed CLI runs from the release, with the node_modules it needs.
    const { stdout } = await run(join(host, "opt/imageless/bin/imageless"), ["node", "runtimeclass"]);
    assert.match(stdout, /handler: flox/);
  });

  it("writes a default node config whose caches and keys serve real FloxHub environments", async () => {
    const text = await readFile(join(host, "etc/imageless/config.toml"), "utf8");
    const { config, warnings } = parseNodeConfig(text, "installed", { strict: true });
    assert.deepEqual(warnings, []);
    assert.deepEqual(config.nix.substituters, ["https://cache.nixos.org", "https://cache.flox.dev"]);
    assert.deepEqual(config.nix.trustedPublicKeys, [
      "cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY=",
      "flox-cache-public-1:7F4OyH7ZCnFhcze3fJdfyXYLQw/aV7GEed86nQ7IsOs=",
    ]);
    assert.equal(config.nix.requireSigs, true);
  });

  it("changes nothing when run a second time", async () => {
    const was = await snapshot(host);
    const second = await installNode(options(host));
    assert.equal(second.changed, false);
    assert.deepEqual(await snapshot(host), was);
  });

  it("--dry-run prints the diff and changes nothing", async () => {
    const fresh = await hostWith({ "/etc/containerd/config.toml": DEFAULT_1_6 });
    const was = await snapshot(fresh);
    const result = await installNode(options(fresh, { dryRun: true }));
    assert.deepEqual(await snapshot(fresh), was);
    const diff = result.lines.find((line) => line.startsWith("--- /etc/containerd/config.toml")) ?? "";
    assert.match(
      diff,
      /\n@@ -239,3 \+239,23 @@\n {3}address = ""\n {3}gid = 0\n {3}uid = 0\n\+\n\+# imageless: the flox runtime handler/,
    );
    assert.match(diff, /\n\+\[plugins\."io\.containerd\.grpc\.v1\.cri"\.containerd\.runtimes\.flox\]\n/);
    assert.match(diff, /\n\+ {4}BinaryName = "\/opt\/imageless\/bin\/imageless-runc"\n/);
  });

  it("upgrades to a newer build in place: new release current, previous kept, config untouched", async () => {
    const newer = join(work, "newer-build");
    for (const part of ["bin", "libexec", "dist", "package.json", "package-lock.json"]) {
      await cp(join(repoRoot(), part), join(newer, part), { recursive: true, verbatimSymlinks: true });
    }
    // The same dependencies: only the build changed.
    await symlink(join(repoRoot(), "node_modules"), join(newer, "node_modules"));
    await writeFile(join(newer, "dist/src/upgrade-marker.js"), "export const marker = 2;\n");
    const was = await snapshot(host);
    const previous = await readlink(join(host, "opt/imageless/current"));
    const upgrade = await installNode(options(host, { source: newer }));
    const now = await readlink(join(host, "opt/imageless/current"));
    assert.notEqual(now, previous);
    assert.deepEqual(
      (await readdir(join(host, "opt/imageless/releases"))).sort(),
      [previous, now].map((p) => p.slice("releases/".length)).sort(),
    );
    assert.equal(was["/etc/containerd/config.toml"], (await snapshot(host))["/etc/containerd/config.toml"]);
    assert.ok(upgrade.lines.some((line) => line.includes(`(was ${previous.slice("releases/".length)};`)));
    assert.ok(!upgrade.lines.some((line) => line.includes("restart")));
    await access(join(host, "opt/imageless/current/dist/src/upgrade-marker.js"));
  });

  it("doctor on the installed host: the runtime containerd would load, the programs, and an unknown key as a problem", async () => {
    const nodeConfig = join(host, "etc/imageless/config.toml");
    const installed = await readFile(nodeConfig, "utf8");
    // Offline-safe caches and hub, plus a key the parser does not know.
    await writeFile(
      nodeConfig,
      `[floxhub]\nurl = "http://127.0.0.1:9"\n[nix]\nsubstituters = ["file://${host}"]\nstore-root = "${host}"\n[runtime]\nmount = "store"\nmoutn = "closure"\n`,
    );
    await writeFile(join(host, "nix-cache-info"), "StoreDir: /nix/store\n");
    try {
      const checks = await runDoctor({
        hostRoot: host,
        prefix: "/opt/imageless",
        nodeConfigPath: "/etc/imageless/config.toml",
        version: "0.1.0",
        now: Date.now(),
      });
      assert.deepEqual(
        checks.map((c) => [c.name, c.ok]),
        [
          ["node config", false],
          ["containerd: flox runtime", true],
          ["node programs", true],
        ],
      );
      assert.deepEqual(checks[0], {
        name: "node config",
        ok: false,
        detail: `config ${nodeConfig}: unknown key [runtime] moutn: accepted keys are "runc", "state-dir", "mount", "shell", "agent-socket", "cacert" and "locales"`,
        fix: "fix /etc/imageless/config.toml (docs/configuration.md lists every key)",
      });
      await writeFile(
        nodeConfig,
        installed
          .replace('url = "https://hub.flox.dev"', 'url = "http://127.0.0.1:9"')
          .replace(/substituters = \[[^\]]*\]/, `substituters = ["file://${host}"]`),
      );
      const rest = await runDoctor({
        hostRoot: host,
        prefix: "/opt/imageless",
        nodeConfigPath: "/etc/imageless/config.toml",
        version: "0.2.0",
        now: Date.now(),
      });
      assert.deepEqual(
        rest.map((c) => [c.name, c.ok]),
        [
          ["node config", true],
          ["containerd: flox runtime", true],
          ["node programs", false],
          ["nix", true],
          [`substituter file://${host}`, true],
          ["floxhub http://127.0.0.1:9", false],
        ],
      );
      assert.match(
        rest[2]?.detail ?? "",
        /^installed release 0\.1\.0-[0-9a-f]{12} is not version 0\.2\.0 \(this CLI\)$/,
      );
    } finally {
      await writeFile(nodeConfig, installed);
      await rm(join(host, "nix-cache-info"));
    }
  });

  let forced: Awaited<ReturnType<typeof uninstallNode>> | undefined;
  it("uninstall refuses while a Flox container runs, naming it; --force goes ahead", async () => {
    const stateDir = join(host, "var/lib/imageless");
    await saveContainerRecord(stateDir, {
      version: 1,
      containerId: "3f1c2a9b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a",
      containerName: "web",
      environment: "acme/hello",
      generation: 2,
      storePath: `/nix/store/${"a".repeat(32)}-profile`,
      skipExec: false,
      activation: {} as never,
      createdAt: new Date(0).toISOString(),
    });
    await assert.rejects(uninstallNode(uninstallOptions(host)), (error: unknown) => {
      assert.ok(error instanceof ImagelessError);
      assert.equal(
        error.message,
        "1 Flox container(s) still run on this node: 3f1c2a9b8d7e (web, acme/hello): delete their pods (or drain the node) first, or pass --force (they then cannot be stopped through the flox runtime)",
      );
      return true;
    });
    await access(join(host, WRAPPER));
    forced = await uninstallNode(uninstallOptions(host, true));
    assert.equal(
      forced.lines[0],
      "--force: uninstalling while these Flox containers run: 3f1c2a9b8d7e (web, acme/hello)",
    );
    await removeTree(stateDir);
  });

  it("uninstall gives the host back exactly as it was before install", async () => {
    assert.deepEqual(await snapshot(host), { ...before1, "/opt": "dir", "/var": "dir", "/var/lib": "dir" });
    assert.equal(await readFile(join(host, "etc/containerd/config.toml"), "utf8"), DEFAULT_1_6);
    assert.deepEqual(forced?.lines.slice(1), [
      "/etc/containerd/config.toml: restored byte for byte from /etc/containerd/config.toml.bak.1",
      "/opt/imageless: removed the installed programs",
      "/etc/imageless/config.toml: removed (the default install wrote, unchanged)",
      "not restarting (--no-restart): restart containerd to drop the flox runtime",
    ]);
  });
});

describe("node install on other node layouts", () => {
  // These check config files only: a build with no dependencies keeps each install to a few files.
  let tiny: string;
  before(async () => {
    tiny = join(work, "tiny-build");
    for (const part of ["bin", "libexec"]) {
      await cp(join(repoRoot(), part), join(tiny, part), { recursive: true, verbatimSymlinks: true });
    }
    await mkdir(join(tiny, "dist/src"), { recursive: true });
    await writeFile(join(tiny, "package.json"), '{ "name": "imageless", "version": "0.1.0" }\n');
  });
  const tinyOptions = (hostRoot: string) => options(hostRoot, { source: tiny });
  it("k3s: creates config.toml.tmpl from the base template, and uninstall removes it", async () => {
    const rendered = "/var/lib/rancher/k3s/agent/etc/containerd/config.toml";
    const host = await hostWith({ [rendered]: DEFAULT_1_6 });
    const was = await snapshot(host);
    await installNode(tinyOptions(host));
    const template = await readFile(join(host, `${rendered}.tmpl`), "utf8");
    assert.ok(template.startsWith('{{ template "base" . }}\n\n# imageless: the flox runtime handler'));
    assert.match(template, /\[plugins\."io\.containerd\.grpc\.v1\.cri"\.containerd\.runtimes\.flox\]/);
    assert.equal(await readFile(join(host, rendered), "utf8"), DEFAULT_1_6);
    await uninstallNode(uninstallOptions(host));
    assert.deepEqual(await snapshot(host), { ...was, "/etc": "dir", "/opt": "dir" });
  });

  it("an nvidia drop-in holding the CRI section gets the runtime; the main config is untouched", async () => {
    const main = DEFAULT_1_6.replace("imports = []", 'imports = ["/etc/containerd/conf.d/*.toml"]');
    const nvidia =
      'version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd]\n  default_runtime_name = "nvidia"\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia.options]\n  BinaryName = "/usr/bin/nvidia-container-runtime"\n  SystemdCgroup = true\n';
    const host = await hostWith({
      "/etc/containerd/config.toml": main,
      "/etc/containerd/conf.d/99-nvidia.toml": nvidia,
    });
    await installNode(tinyOptions(host));
    assert.equal(await readFile(join(host, "etc/containerd/config.toml"), "utf8"), main);
    const dropIn = await readFile(join(host, "etc/containerd/conf.d/99-nvidia.toml"), "utf8");
    assert.ok(dropIn.startsWith(`${nvidia}\n# imageless`));
    assert.deepEqual(
      { ...tableAt(floxRuntimeTable(parse(dropIn), 2) ?? {}, ["options"]) },
      {
        BinaryName: WRAPPER,
        SystemdCgroup: true,
      },
    );
    await uninstallNode(uninstallOptions(host));
    assert.equal(await readFile(join(host, "etc/containerd/conf.d/99-nvidia.toml"), "utf8"), nvidia);
  });

  it("an operator's later edit survives uninstall, which then removes only the block", async () => {
    const host = await hostWith({ "/etc/containerd/config.toml": DEFAULT_1_6 });
    await installNode(tinyOptions(host));
    const path = join(host, "etc/containerd/config.toml");
    const edited = (await readFile(path, "utf8")).replace(
      'sandbox_image = "registry.k8s.io/pause:3.6"',
      'sandbox_image = "registry.k8s.io/pause:3.9"',
    );
    await writeFile(path, edited);
    await uninstallNode(uninstallOptions(host));
    assert.equal(await readFile(path, "utf8"), DEFAULT_1_6.replace("pause:3.6", "pause:3.9"));
  });

  it("without a config and without a containerd to ask, says what to pass", async () => {
    const host = await hostWith({});
    await assert.rejects(installNode(tinyOptions(host)), {
      message:
        "containerd config /etc/containerd/config.toml does not exist and `containerd --version` did not answer, so the config version is unknown: pass --containerd-config with the file containerd reads",
    });
  });
});
