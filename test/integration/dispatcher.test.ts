import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { repoRoot } from "../harness/repo-root.js";
import { SHIM_BUNDLE, SHIM_GLOBAL } from "../harness/shim-argv.js";

// The scripts under test are not compiled: read from the source tree.
const REPO = repoRoot();
const WRAPPER = join(REPO, "bin/imageless-runc");
const SHIM_LAUNCHER = join(REPO, "bin/containerd-shim-flox-v2");
const FAKE_RUNC = join(REPO, "test/fixtures/fake-runc.sh");
const SEP = "\x1f";
// The tools the sh scripts use, linked into a directory of their own: /usr/bin also holds a runc link,
// which would make "no runc on PATH" untestable.
const TOOLS = ["readlink", "awk", "date", "sleep"];
let SYSTEM_PATH = "";

const B = SHIM_BUNDLE;

let dir = "";
let configWithFake = "";
let nodeStub = "";
let nodeLog = "";

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "imageless-dispatcher-"));
  SYSTEM_PATH = join(dir, "tools");
  await mkdir(SYSTEM_PATH);
  for (const tool of TOOLS) await symlink(join("/usr/bin", tool), join(SYSTEM_PATH, tool));
  configWithFake = join(dir, "config.toml");
  await writeFile(
    configWithFake,
    `# test config\n[nix]\nrunc = "/not/this/one"\n\n[runtime] # the real runc\nmount = "store"\nrunc = "${FAKE_RUNC}"\nstate-dir = '${join(dir, "state")}'\n`,
  );
  // Container abc was modified by the runtime (it has a record); others were not.
  await mkdir(join(dir, "state", "containers"), { recursive: true });
  await writeFile(join(dir, "state", "containers", "abc.json"), "{}");
  // A named fake for `node`: records that it was started (argv and the runc it was handed) and fails,
  // so a pass-through that started Node would show in the log and in the exit code.
  nodeLog = join(dir, "node.log");
  nodeStub = join(dir, "fake-node.sh");
  await writeFile(
    nodeStub,
    `#!/bin/sh\n{ printf 'real=%s' "$IMAGELESS_REAL_RUNC"; for a in "$@"; do printf '${SEP}%s' "$a"; done; echo; } >>"${nodeLog}"\nexit 42\n`,
  );
  await chmod(nodeStub, 0o755);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Run {
  readonly status: number | null;
  readonly stderr: string;
  readonly runcCalls: readonly string[];
  readonly nodeCalls: readonly string[];
}

/** Runs `program` (the wrapper by default) in a clean environment and collects what the fakes saw. */
async function run(argv: readonly string[], env: Record<string, string>, program = WRAPPER): Promise<Run> {
  const runcLog = join(dir, "runc.log");
  await rm(runcLog, { force: true });
  await rm(nodeLog, { force: true });
  const result = spawnSync(program, argv, {
    encoding: "utf8",
    env: {
      PATH: SYSTEM_PATH,
      IMAGELESS_CONFIG: configWithFake,
      IMAGELESS_NODE: nodeStub,
      FAKE_RUNC_LOG: runcLog,
      ...env,
    },
  });
  const lines = async (path: string) =>
    // Every call is one line, an empty one for a call without arguments.
    (await readFile(path, "utf8").catch(() => "")).split("\n").slice(0, -1);
  return {
    status: result.status,
    stderr: result.stderr,
    runcCalls: await lines(runcLog),
    nodeCalls: await lines(nodeLog),
  };
}

describe("bin/imageless-runc", () => {
  const passThrough: ReadonlyArray<readonly [string, readonly string[]]> = [
    ["start", [...SHIM_GLOBAL, "start", "abc"]],
    ["kill", [...SHIM_GLOBAL, "kill", "--all", "abc", "9"]],
    ["ps", [...SHIM_GLOBAL, "--systemd-cgroup", "ps", "--format", "json", "abc"]],
    ["state", ["--root=/run/x", "state", "abc"]],
    ["events", [...SHIM_GLOBAL, "events", "--stats", "abc"]],
    ["update", [...SHIM_GLOBAL, "update", "--resources=-", "abc"]],
    ["--version", ["--version"]],
    ["--help", ["--help"]],
    ["no arguments", []],
    ["a global value spelled like a subcommand", ["--root", "create", "--log", "exec", "start", "abc"]],
    ["an argument with spaces and quotes", ["--debug", "kill", "a b 'c' \"d\" $HOME *", "15"]],
    ["an unknown global flag", ["--new-global=1", "create", "abc"]],
  ];
  for (const [name, argv] of passThrough) {
    it(`passes ${name} to the configured runc byte for byte without starting Node`, async () => {
      const got = await run(argv, {});
      assert.equal(got.status, 0, got.stderr);
      assert.deepEqual(got.runcCalls, [argv.join(SEP)]);
      assert.deepEqual(got.nodeCalls, []);
    });
  }

  it("preserves runc's exit code", async () => {
    for (const code of ["1", "3", "255"]) {
      const got = await run([...SHIM_GLOBAL, "state", "abc"], { FAKE_RUNC_EXIT: code });
      assert.equal(String(got.status), code);
      assert.deepEqual(got.nodeCalls, []);
    }
  });

  const toNode: ReadonlyArray<readonly [string, readonly string[]]> = [
    ["create", [...SHIM_GLOBAL, "create", "--bundle", B, "--pid-file", `${B}/init.pid`, "abc"]],
    [
      "create with a bundle named create",
      [...SHIM_GLOBAL, "--systemd-cgroup", "create", "--bundle", "create", "abc"],
    ],
    [
      "exec",
      [
        ...SHIM_GLOBAL,
        "exec",
        "--process",
        "/tmp/runc-process1",
        "--detach",
        "--pid-file",
        `${B}/e.pid`,
        "abc",
      ],
    ],
    ["delete", [...SHIM_GLOBAL, "delete", "abc"]],
    ["delete --force", ["--log=/l.json", "--log-format=json", "delete", "--force", "abc"]],
  ];
  for (const [name, argv] of toNode) {
    it(`routes ${name} to Node's main.js with the resolved runc`, async () => {
      const got = await run(argv, {});
      assert.equal(got.status, 42);
      assert.deepEqual(got.runcCalls, []);
      assert.deepEqual(got.nodeCalls, [
        [`real=${FAKE_RUNC}`, join(REPO, "dist/src/main/imageless.js"), "__runc", ...argv].join(SEP),
      ]);
    });
  }

  const unmodified: ReadonlyArray<readonly [string, readonly string[]]> = [
    ["exec", [...SHIM_GLOBAL, "exec", "--process", "/tmp/p", "-d", "--pid-file=/b/e.pid", "pause1", "sh"]],
    ["exec with -- before the ID", ["exec", "-p", "/tmp/p", "--", "pause1"]],
    ["delete", [...SHIM_GLOBAL, "delete", "pause1"]],
    ["delete --force", ["--log=/l.json", "delete", "-f", "pause1"]],
  ];
  for (const [name, argv] of unmodified) {
    it(`passes ${name} of a container without a record in the state dir straight to runc`, async () => {
      const got = await run(argv, {});
      assert.equal(got.status, 0, got.stderr);
      assert.deepEqual(got.runcCalls, [argv.join(SEP)]);
      assert.deepEqual(got.nodeCalls, []);
    });
  }

  it("routes exec of an ID that is not a plain name to Node, which decides", async () => {
    const argv = ["exec", "--process", "/tmp/p", "../abc"];
    const got = await run(argv, {});
    assert.equal(got.status, 42);
    assert.deepEqual(got.runcCalls, []);
  });

  const configForms: ReadonlyArray<readonly [string, (fake: string) => string, boolean]> = [
    ["blanks, a comment and a literal string", (f) => `  [ runtime ]  # x\n\trunc\t=\t'${f}' # y\n`, true],
    ["no final newline", (f) => `[runtime]\nrunc = "${f}"`, true],
    ["a longer key first", (f) => `[runtime]\nrunc-x = "/bad"\nrunc = "${f}"\n`, true],
    ["runc in another table", (f) => `[runtime.x]\nrunc = "${f}"\n[nix]\nrunc = "${f}"\n`, false],
    ["an array of tables", (f) => `[[runtime]]\nrunc = "${f}"\n`, false],
    ["an empty value", () => `[runtime]\nrunc = ""\n`, false],
  ];
  for (const [name, text, used] of configForms) {
    it(`reads [runtime] runc from a config with ${name}`, async () => {
      const config = join(dir, "form.toml");
      await writeFile(config, text(FAKE_RUNC));
      const got = await run(["state", "abc"], { IMAGELESS_CONFIG: config });
      // Without a usable value the tools-only PATH has no runc, so the call fails instead.
      assert.equal(got.status, used ? 0 : 1, got.stderr);
      assert.deepEqual(got.runcCalls, used ? ["state\x1fabc"] : []);
    });
  }

  it("routes create, exec and delete to the single executable installed beside it, never to node", async () => {
    // An installed layout: the dispatcher and a named fake of the single executable in one directory.
    const bin = join(dir, "installed", "bin");
    await mkdir(bin, { recursive: true });
    await copyFile(WRAPPER, join(bin, "imageless-runc"));
    const fakeExecutable = join(bin, "imageless-node");
    await writeFile(fakeExecutable, `#!/bin/sh\nexec ${nodeStub} single-executable "$@"\n`);
    await chmod(fakeExecutable, 0o755);
    for (const command of ["create", "exec", "delete"]) {
      const argv = [...SHIM_GLOBAL, command, "abc"];
      const got = await run(argv, {}, join(bin, "imageless-runc"));
      assert.equal(got.status, 42);
      assert.deepEqual(got.nodeCalls, [
        [`real=${FAKE_RUNC}`, "single-executable", "__runc", ...argv].join(SEP),
      ]);
    }
    const passed = await run([...SHIM_GLOBAL, "start", "abc"], {}, join(bin, "imageless-runc"));
    assert.deepEqual([passed.status, passed.nodeCalls], [0, []]);
  });

  describe("without [runtime] runc", () => {
    let selfDir = "";
    let fakeDir = "";
    before(async () => {
      selfDir = join(dir, "self");
      fakeDir = join(dir, "fake");
      await mkdir(selfDir);
      await mkdir(fakeDir);
      await symlink(WRAPPER, join(selfDir, "runc"));
      await symlink(FAKE_RUNC, join(fakeDir, "runc"));
    });

    it("uses the first runc on PATH that is not the wrapper, also when called through that link", async () => {
      const env = {
        IMAGELESS_CONFIG: join(dir, "missing.toml"),
        PATH: `:.:${selfDir}:${fakeDir}:${SYSTEM_PATH}`,
      };
      for (const program of [WRAPPER, join(selfDir, "runc")]) {
        const got = await run([...SHIM_GLOBAL, "kill", "abc", "9"], env, program);
        assert.equal(got.status, 0, got.stderr);
        assert.deepEqual(got.runcCalls, [[...SHIM_GLOBAL, "kill", "abc", "9"].join(SEP)]);
        const toNode = await run([...SHIM_GLOBAL, "create", "abc"], env, program);
        assert.equal(toNode.status, 42);
        assert.match(toNode.nodeCalls[0] ?? "", new RegExp(`^real=${join(fakeDir, "runc")}${SEP}`));
      }
    });

    it("fails with a line in runc's --log when only the wrapper is on PATH", async () => {
      const log = join(dir, "log.json");
      const env = { IMAGELESS_CONFIG: join(dir, "missing.toml"), PATH: `${selfDir}:${SYSTEM_PATH}` };
      const got = await run(["--log", log, "--log-format", "json", "start", "abc"], env);
      assert.equal(got.status, 1);
      assert.match(got.stderr, /^imageless: runc: no runc on PATH other than this wrapper/);
      const line: unknown = JSON.parse(await readFile(log, "utf8"));
      assert.ok(typeof line === "object" && line !== null);
      assert.equal(Reflect.get(line, "level"), "error");
      assert.match(String(Reflect.get(line, "msg")), /^imageless: runc: no runc on PATH/);
    });

    it("routes create to Node without IMAGELESS_REAL_RUNC when no runc is found", async () => {
      const env = { IMAGELESS_CONFIG: join(dir, "missing.toml"), PATH: `${selfDir}:${SYSTEM_PATH}` };
      const got = await run(["create", "abc"], { ...env, IMAGELESS_REAL_RUNC: "/stale" });
      assert.equal(got.status, 42);
      assert.ok((got.nodeCalls[0] ?? "").startsWith(`real=${SEP}`));
    });

    it("stops instead of looping when the configured runc is the wrapper", async () => {
      const config = join(dir, "self.toml");
      await writeFile(config, `[runtime]\nrunc = '${join(selfDir, "runc")}'\n`);
      const got = await run(["state", "abc"], { IMAGELESS_CONFIG: config });
      assert.equal(got.status, 1);
      assert.match(got.stderr, /the configured runc is this wrapper/);
    });
  });
});

describe("bin/containerd-shim-flox-v2", () => {
  it("runs the stock shim with the wrapper as its runc", async () => {
    // A named fake for containerd-shim-runc-v2 that, like the real one, runs `runc` from PATH.
    const shimDir = join(dir, "shim");
    await mkdir(shimDir);
    const fakeShim = join(shimDir, "containerd-shim-runc-v2");
    await writeFile(fakeShim, '#!/bin/sh\nexec runc --root /r "$@"\n');
    await chmod(fakeShim, 0o755);
    const got = await run(["start", "abc"], { PATH: `${shimDir}:${SYSTEM_PATH}` }, SHIM_LAUNCHER);
    assert.equal(got.status, 0, got.stderr);
    assert.deepEqual(got.runcCalls, [["--root", "/r", "start", "abc"].join(SEP)]);
    assert.deepEqual(got.nodeCalls, []);
  });
});
