/**
 * runc's global flags, as containerd's runc shim passes them: always `--root R --log B/log.json
 * --log-format json`, plus `--systemd-cgroup` for the systemd cgroup driver.
 */
export interface RuncGlobalFlags {
  readonly root?: string;
  readonly log?: string;
  readonly logFormat?: string;
  readonly criu?: string;
  readonly rootless?: string;
  readonly systemdCgroup: boolean;
  readonly debug: boolean;
}

/** One runc call, read from its argv (without the program name). */
export interface RuncInvocation {
  readonly global: RuncGlobalFlags;
  /** The subcommand; absent for `--version`, `--help` or an argv with no subcommand. */
  readonly command?: string;
  /** Every token after the subcommand, verbatim (or, without one, every token from the first non-global one). */
  readonly args: readonly string[];
  /** The first positional argument after the subcommand: the container ID for every command that takes one. */
  readonly containerId?: string;
  readonly bundle?: string;
  readonly pidFile?: string;
  readonly processFile?: string;
  readonly consoleSocket?: string;
  readonly detach?: boolean;
  readonly force?: boolean;
  /** `--help`/`-h` after the subcommand: runc prints help and does nothing, so nor should the wrapper. */
  readonly help?: boolean;
}

/** Global flags that take a value (runc 1.1: `--root`, `--log`, `--log-format`, `--criu`, `--rootless`). */
const GLOBAL_VALUE_FLAGS = new Set(["root", "log", "log-format", "criu", "rootless"]);
const GLOBAL_BOOLEAN_FLAGS = new Set(["debug", "systemd-cgroup"]);

/**
 * Long subcommand flags of runc 1.1 that take a value. Any other flag is read as a boolean: a value
 * flag we do not know would then be mistaken for the container ID, but the shim never passes one,
 * and `--flag=value` is always read right.
 */
const VALUE_FLAGS = new Set([
  // create / run / exec
  "bundle",
  "console-socket",
  "pid-file",
  "preserve-fds",
  "process",
  "cwd",
  "env",
  "user",
  "additional-gids",
  "process-label",
  "apparmor",
  "cap",
  "cgroup",
  // ps / events
  "format",
  "interval",
  // update
  "resources",
  "blkio-weight",
  "cpu-period",
  "cpu-quota",
  "cpu-rt-period",
  "cpu-rt-runtime",
  "cpu-share",
  "cpu-idle",
  "cpuset-cpus",
  "cpuset-mems",
  "kernel-memory",
  "kernel-memory-tcp",
  "memory",
  "memory-reservation",
  "memory-swap",
  "pids-limit",
  "l3-cache-schema",
  "mem-bw-schema",
  // checkpoint / restore
  "image-path",
  "work-path",
  "parent-path",
  "page-server",
  "manage-cgroups-mode",
  "empty-ns",
  "status-fd",
  "lazy-pages",
  "auto-dedup",
]);

/** Single-letter aliases, per subcommand, because runc reuses letters (`-f` is `--force` for delete, `--format` for ps). */
const SHORT_FLAGS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  create: { b: "bundle" },
  run: { b: "bundle", d: "detach" },
  restore: { b: "bundle", d: "detach" },
  exec: { p: "process", d: "detach", t: "tty", e: "env", u: "user", c: "cap", g: "additional-gids" },
  delete: { f: "force" },
  kill: { a: "all" },
  ps: { f: "format" },
  update: { r: "resources" },
};

/**
 * Subcommands whose flag parsing stops at the first positional argument, because what follows is
 * the process's own argv (`runc exec ID sh -c …`); runc's other subcommands also read flags after it.
 */
const STOPS_AT_POSITIONAL = new Set(["exec", "run"]);

interface Flag {
  readonly name: string;
  /** The value written as `--name=value`, if any. */
  readonly inline?: string;
}

/** `--name`, `-name`, `--name=value`; Go's flag package (which runc's CLI uses) accepts one or two dashes. */
function readFlag(token: string): Flag | undefined {
  if (token === "-" || token === "--" || !token.startsWith("-")) return undefined;
  const body = token.startsWith("--") ? token.slice(2) : token.slice(1);
  const eq = body.indexOf("=");
  return eq < 0 ? { name: body } : { name: body.slice(0, eq), inline: body.slice(eq + 1) };
}

/** A boolean flag written `--force=false` is false; Go's strconv.ParseBool spellings. */
function readBoolean(flag: Flag): boolean {
  return flag.inline === undefined || ["1", "t", "T", "true", "TRUE", "True"].includes(flag.inline);
}

/**
 * Reads a runc argv (without the program name) into the fields the wrapper needs. Pure; never throws:
 * anything it cannot place stays in `args`, and a caller that needs a field checks it is there.
 *
 * @example
 * parseRuncArgv(["--root", "/run/containerd/runc/k8s.io", "--log", "/b/log.json", "--log-format", "json",
 *   "create", "--bundle", "/b", "--pid-file", "/b/init.pid", "abc"]);
 * // { command: "create", containerId: "abc", bundle: "/b", pidFile: "/b/init.pid", global: { root: …, … }, … }
 */
export function parseRuncArgv(argv: readonly string[]): RuncInvocation {
  const global: { -readonly [K in keyof RuncGlobalFlags]: RuncGlobalFlags[K] } = {
    systemdCgroup: false,
    debug: false,
  };
  let i = 0;
  while (i < argv.length) {
    const token = argv[i] ?? "";
    const flag = readFlag(token);
    if (flag === undefined) break;
    if (GLOBAL_VALUE_FLAGS.has(flag.name)) {
      const value = flag.inline ?? argv[i + 1];
      i += flag.inline === undefined ? 2 : 1;
      if (value !== undefined) setGlobal(global, flag.name, value);
      continue;
    }
    if (GLOBAL_BOOLEAN_FLAGS.has(flag.name)) {
      if (flag.name === "debug") global.debug = readBoolean(flag);
      else global.systemdCgroup = readBoolean(flag);
      i += 1;
      continue;
    }
    // `--version`, `--help` or a flag this runc may know and we do not: no subcommand to act on.
    return { global, args: argv.slice(i) };
  }
  const command = argv[i];
  if (command === undefined) return { global, args: [] };
  if (command === "--") return { global, args: argv.slice(i) };
  const args = argv.slice(i + 1);
  return { global, command, args, ...readCommandArgs(command, args) };
}

type CommandFields = Omit<RuncInvocation, "global" | "command" | "args">;

function readCommandArgs(command: string, args: readonly string[]): CommandFields {
  const fields: { -readonly [K in keyof CommandFields]: CommandFields[K] } = {};
  const shorts = SHORT_FLAGS[command] ?? {};
  let flagsEnded = false;
  for (let i = 0; i < args.length; i += 1) {
    const token = args[i] ?? "";
    const flag = flagsEnded ? undefined : readFlag(token);
    if (token === "--" && !flagsEnded) {
      flagsEnded = true;
      continue;
    }
    if (flag === undefined) {
      if (fields.containerId === undefined) {
        fields.containerId = token;
        if (STOPS_AT_POSITIONAL.has(command)) flagsEnded = true;
      }
      continue;
    }
    const name = (flag.name.length === 1 ? shorts[flag.name] : undefined) ?? flag.name;
    if (!VALUE_FLAGS.has(name)) {
      setBoolean(fields, name, readBoolean(flag));
      continue;
    }
    const value = flag.inline ?? args[i + 1];
    if (flag.inline === undefined) i += 1;
    if (value !== undefined) setValue(fields, name, value);
  }
  return fields;
}

function setGlobal(
  global: { root?: string; log?: string; logFormat?: string; criu?: string; rootless?: string },
  name: string,
  value: string,
): void {
  if (name === "root") global.root = value;
  else if (name === "log") global.log = value;
  else if (name === "log-format") global.logFormat = value;
  else if (name === "criu") global.criu = value;
  else if (name === "rootless") global.rootless = value;
}

function setValue(
  fields: { bundle?: string; pidFile?: string; processFile?: string; consoleSocket?: string },
  name: string,
  value: string,
): void {
  if (name === "bundle") fields.bundle = value;
  else if (name === "pid-file") fields.pidFile = value;
  else if (name === "process") fields.processFile = value;
  else if (name === "console-socket") fields.consoleSocket = value;
}

function setBoolean(
  fields: { detach?: boolean; force?: boolean; help?: boolean },
  name: string,
  value: boolean,
): void {
  if (name === "detach") fields.detach = value;
  else if (name === "force") fields.force = value;
  else if (name === "help" || name === "h") fields.help = value;
}
