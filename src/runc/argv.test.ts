import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { SHIM_BUNDLE, SHIM_GLOBAL } from "../../test/harness/shim-argv.js";
import { parseRuncArgv, type RuncInvocation } from "./argv.js";

const B = SHIM_BUNDLE;
const GLOBAL = {
  root: "/run/containerd/runc/k8s.io",
  log: `${B}/log.json`,
  logFormat: "json",
  systemdCgroup: false,
  debug: false,
};
const EXEC_ID = "f".repeat(64);

/** The argv containerd-shim-runc-v2 really passes (research/containerd-runtime.md §3), and what each means. */
const SHIM_CASES: ReadonlyArray<
  readonly [string, readonly string[], Omit<RuncInvocation, "global" | "args">]
> = [
  [
    "create",
    ["create", "--bundle", B, "--pid-file", `${B}/init.pid`, "abc"],
    { command: "create", containerId: "abc", bundle: B, pidFile: `${B}/init.pid` },
  ],
  [
    "create with a tty and runc's extra booleans",
    [
      "create",
      "--bundle",
      B,
      "--pid-file",
      `${B}/init.pid`,
      "--console-socket",
      "/tmp/pty1/pty.sock",
      "--no-pivot",
      "--no-new-keyring",
      "abc",
    ],
    {
      command: "create",
      containerId: "abc",
      bundle: B,
      pidFile: `${B}/init.pid`,
      consoleSocket: "/tmp/pty1/pty.sock",
    },
  ],
  ["start", ["start", "abc"], { command: "start", containerId: "abc" }],
  [
    "exec",
    ["exec", "--process", "/tmp/runc-process123", "--detach", "--pid-file", `${B}/${EXEC_ID}.pid`, "abc"],
    {
      command: "exec",
      containerId: "abc",
      processFile: "/tmp/runc-process123",
      detach: true,
      pidFile: `${B}/${EXEC_ID}.pid`,
    },
  ],
  [
    "exec with a tty",
    [
      "exec",
      "--process",
      "/tmp/runc-process9",
      "--console-socket",
      "/tmp/pty2/pty.sock",
      "--detach",
      "--pid-file",
      `${B}/x.pid`,
      "abc",
    ],
    {
      command: "exec",
      containerId: "abc",
      processFile: "/tmp/runc-process9",
      consoleSocket: "/tmp/pty2/pty.sock",
      detach: true,
      pidFile: `${B}/x.pid`,
    },
  ],
  ["kill", ["kill", "abc", "9"], { command: "kill", containerId: "abc" }],
  ["kill --all", ["kill", "--all", "abc", "9"], { command: "kill", containerId: "abc" }],
  ["delete", ["delete", "abc"], { command: "delete", containerId: "abc" }],
  ["delete --force", ["delete", "--force", "abc"], { command: "delete", containerId: "abc", force: true }],
  ["pause", ["pause", "abc"], { command: "pause", containerId: "abc" }],
  ["resume", ["resume", "abc"], { command: "resume", containerId: "abc" }],
  ["ps", ["ps", "--format", "json", "abc"], { command: "ps", containerId: "abc" }],
  ["ps -f table", ["ps", "-f", "table", "abc"], { command: "ps", containerId: "abc" }],
  ["update", ["update", "--resources=-", "abc"], { command: "update", containerId: "abc" }],
  ["update -r", ["update", "-r", "-", "abc"], { command: "update", containerId: "abc" }],
  ["events", ["events", "--stats", "abc"], { command: "events", containerId: "abc" }],
  ["events --interval", ["events", "--interval", "5s", "abc"], { command: "events", containerId: "abc" }],
  ["features", ["features"], { command: "features" }],
  ["state", ["state", "abc"], { command: "state", containerId: "abc" }],
];

describe("parseRuncArgv()", () => {
  for (const [name, tail, expected] of SHIM_CASES) {
    it(`reads the shim's ${name} argv`, () => {
      assert.deepEqual(parseRuncArgv([...SHIM_GLOBAL, ...tail]), {
        global: GLOBAL,
        args: tail.slice(1),
        ...expected,
      });
    });
    it(`reads the shim's ${name} argv with --systemd-cgroup`, () => {
      const got = parseRuncArgv([...SHIM_GLOBAL, "--systemd-cgroup", ...tail]);
      assert.deepEqual(got, { global: { ...GLOBAL, systemdCgroup: true }, args: tail.slice(1), ...expected });
    });
  }

  const globalForms: ReadonlyArray<readonly [string, readonly string[], RuncInvocation]> = [
    ["--version", ["--version"], { global: { systemdCgroup: false, debug: false }, args: ["--version"] }],
    ["-v", ["-v"], { global: { systemdCgroup: false, debug: false }, args: ["-v"] }],
    ["--help", ["--help"], { global: { systemdCgroup: false, debug: false }, args: ["--help"] }],
    ["no arguments", [], { global: { systemdCgroup: false, debug: false }, args: [] }],
    [
      "only global flags",
      ["--root", "/r", "--debug"],
      { global: { root: "/r", systemdCgroup: false, debug: true }, args: [] },
    ],
    ["--version after global flags", [...SHIM_GLOBAL, "--version"], { global: GLOBAL, args: ["--version"] }],
    [
      "--flag=value globals and one-dash spelling",
      [
        "--root=/r",
        "-log=/l.json",
        "--log-format=text",
        "--criu",
        "/usr/sbin/criu",
        "--rootless=auto",
        "start",
        "x",
      ],
      {
        global: {
          root: "/r",
          log: "/l.json",
          logFormat: "text",
          criu: "/usr/sbin/criu",
          rootless: "auto",
          systemdCgroup: false,
          debug: false,
        },
        command: "start",
        args: ["x"],
        containerId: "x",
      },
    ],
    [
      "a boolean global written =false",
      ["--systemd-cgroup=false", "--debug=true", "state", "x"],
      { global: { systemdCgroup: false, debug: true }, command: "state", args: ["x"], containerId: "x" },
    ],
    [
      "a global value that looks like a subcommand",
      ["--root", "create", "start", "x"],
      {
        global: { root: "create", systemdCgroup: false, debug: false },
        command: "start",
        args: ["x"],
        containerId: "x",
      },
    ],
    ["a missing global value", ["--root"], { global: { systemdCgroup: false, debug: false }, args: [] }],
  ];
  for (const [name, argv, expected] of globalForms) {
    it(`reads ${name}`, () => assert.deepEqual(parseRuncArgv(argv), expected));
  }

  /** Argv after the subcommand → every field the parser reads from it (global flags and args aside). */
  const commandForms: ReadonlyArray<
    readonly [string, readonly string[], Omit<RuncInvocation, "global" | "args">]
  > = [
    [
      "a bundle directory named create",
      ["create", "--bundle", "create", "id"],
      { command: "create", bundle: "create", containerId: "id" },
    ],
    ["-b", ["create", "-b", "/b", "id"], { command: "create", bundle: "/b", containerId: "id" }],
    [
      "--bundle=",
      ["create", "--bundle=/b", "--pid-file=/b/init.pid", "id"],
      { command: "create", bundle: "/b", pidFile: "/b/init.pid", containerId: "id" },
    ],
    [
      "-bundle (one dash)",
      ["create", "-bundle", "/b", "id"],
      { command: "create", bundle: "/b", containerId: "id" },
    ],
    [
      "flags after the container ID",
      ["delete", "id", "--force"],
      { command: "delete", containerId: "id", force: true },
    ],
    ["delete -f", ["delete", "-f", "id"], { command: "delete", containerId: "id", force: true }],
    [
      "--force=false",
      ["delete", "--force=false", "id"],
      { command: "delete", containerId: "id", force: false },
    ],
    ["create without a bundle", ["create", "id"], { command: "create", containerId: "id" }],
    [
      "-p and -d for exec",
      ["exec", "-p", "/p.json", "-d", "id"],
      { command: "exec", processFile: "/p.json", detach: true, containerId: "id" },
    ],
    [
      "exec stops reading flags at the container ID",
      ["exec", "-t", "id", "sh", "--process", "x", "-d"],
      { command: "exec", containerId: "id" },
    ],
    [
      "run stops reading flags at the container ID",
      ["run", "-b", "/b", "id", "--detach", "--bundle", "/other"],
      { command: "run", bundle: "/b", containerId: "id" },
    ],
    ["exec with -- before the ID", ["exec", "--", "id", "ls"], { command: "exec", containerId: "id" }],
    [
      "an unknown flag as a boolean",
      ["create", "--new-flag", "--bundle", "/b", "id"],
      { command: "create", bundle: "/b", containerId: "id" },
    ],
    [
      "an unknown flag with =value",
      ["create", "--new-flag=/x", "id"],
      { command: "create", containerId: "id" },
    ],
    ["a subcommand's --help", ["create", "--help"], { command: "create", help: true }],
    ["a subcommand's -h", ["delete", "-h"], { command: "delete", help: true }],
    ["a missing flag value", ["create", "--bundle"], { command: "create" }],
    ["-f is --format for ps, not --force", ["ps", "-f", "json", "id"], { command: "ps", containerId: "id" }],
  ];
  for (const [name, argv, expected] of commandForms) {
    it(`reads ${name}`, () => {
      assert.deepEqual(parseRuncArgv(argv), {
        global: { systemdCgroup: false, debug: false },
        args: argv.slice(1),
        ...expected,
      });
    });
  }

  // Values that cannot be mistaken for flags or subcommands: what a shim passes as paths and IDs.
  const value = fc.stringMatching(/^[A-Za-z0-9/._]{1,12}$/);
  /** A value flag written in one of the three spellings runc accepts. */
  const spelled = (name: string, v: string, form: number): string[] =>
    form === 0 ? [`--${name}`, v] : form === 1 ? [`--${name}=${v}`] : [`-${name}`, v];

  it("recovers the global flags, bundle, pid file and container ID of any create, in any order and spelling", () => {
    fc.assert(
      fc.property(
        fc.record({ root: value, log: value, bundle: value, pidFile: value, id: value }),
        fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 4, maxLength: 4 }),
        fc.boolean(),
        fc.boolean(),
        (v, forms, systemd, pidFirst) => {
          const flags = [
            spelled("bundle", v.bundle, forms[2] ?? 0),
            spelled("pid-file", v.pidFile, forms[3] ?? 0),
          ];
          if (pidFirst) flags.reverse();
          const argv = [
            ...spelled("root", v.root, forms[0] ?? 0),
            ...spelled("log", v.log, forms[1] ?? 0),
            ...(systemd ? ["--systemd-cgroup"] : []),
            "create",
            ...flags.flat(),
            v.id,
          ];
          assert.deepEqual(parseRuncArgv(argv), {
            global: { root: v.root, log: v.log, systemdCgroup: systemd, debug: false },
            command: "create",
            args: argv.slice(argv.indexOf("create") + 1),
            bundle: v.bundle,
            pidFile: v.pidFile,
            containerId: v.id,
          });
        },
      ),
    );
  });

  it("reads nothing after exec's container ID: the tail is the process's own argv", () => {
    const tailToken = fc.oneof(
      value,
      fc.constantFrom("--process", "-p", "--detach", "-d", "--pid-file", "--", "-"),
    );
    fc.assert(
      fc.property(value, value, fc.array(tailToken, { maxLength: 8 }), (processFile, id, tail) => {
        const head = ["exec", "--process", processFile, id];
        const { args: _all, ...withTail } = parseRuncArgv([...head, ...tail]);
        const { args: _head, ...withoutTail } = parseRuncArgv(head);
        assert.deepEqual(withTail, withoutTail);
      }),
    );
  });

  it("keeps every token after the subcommand verbatim and never throws", () => {
    const token = fc.oneof(
      fc.string(),
      fc.constantFrom(
        "--root",
        "--log",
        "--bundle",
        "-b",
        "--",
        "-",
        "create",
        "exec",
        "--force",
        "--debug",
        "=x",
      ),
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 12 }), (argv) => {
        const got = parseRuncArgv(argv);
        const tail = got.command === undefined ? got.args : [got.command, ...got.args];
        return tail.every((t, i) => t === argv[argv.length - tail.length + i]);
      }),
    );
  });
});
