import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { type ErrorKind, ImagelessError } from "../errors/imageless-error.js";
import type { Secret } from "../log/secret.js";

/** How to run one git command. */
export interface GitOptions {
  /** Working directory (a repository for most commands). */
  readonly cwd?: string;
  /** A FloxHub token, sent as HTTP Basic `oauth:<token>`; never on the command line. */
  readonly token?: Secret;
  /** The URL prefix the token is for (`http.<url>.extraHeader`), so a redirect elsewhere gets no token. */
  readonly authUrl?: string;
  /** Written to git's stdin. */
  readonly input?: string | Buffer;
  /** Extra environment (GIT_INDEX_FILE, GIT_AUTHOR_NAME …). */
  readonly env?: Readonly<Record<string, string>>;
  /** Kill git after this long (default 120 s): a hung hub must not hang a container start forever. */
  readonly timeoutMs?: number;
  /**
   * Run git holding an exclusive flock(2) on this file (util-linux `flock`), waiting for other holders.
   * The kernel drops the lock when the holder dies, so a killed start can never leave it stale.
   */
  readonly lockFile?: string;
}

/** What a successful git command printed. */
export interface GitResult {
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** Config every git call gets, as GIT_CONFIG_* pairs (not argv, not a file). */
const FIXED_CONFIG: readonly [string, string][] = [
  // A node's cache repo is written by parallel starts; an automatic gc racing a fetch is not wanted.
  ["gc.auto", "0"],
  ["maintenance.auto", "false"],
  // Abort a stalled transfer instead of waiting for TCP to give up.
  ["http.lowSpeedLimit", "1"],
  ["http.lowSpeedTime", "60"],
];

/**
 * Runs git (everything but the hub's `git http-backend` CGI) with no user or system config, no prompts and
 * no inherited GIT_* variables. Failures become an {@link ImagelessError} whose kind callers branch on
 * (see {@link classifyGitFailure}); the token never appears in its message or cause.
 *
 * @throws {ImagelessError} `unauthorized`, `not-found`, `unavailable` or `internal`.
 * @example
 * const { stdout } = await runGit(["ls-remote", url, "refs/heads/web"], { token, authUrl: url });
 */
export async function runGit(args: readonly string[], opts: GitOptions = {}): Promise<GitResult> {
  const env = gitEnvironment(opts);
  const timeoutMs = opts.timeoutMs ?? 120_000;
  return await new Promise<GitResult>((resolve, reject) => {
    const [program, argv] =
      opts.lockFile === undefined ? ["git", args] : ["flock", [opts.lockFile, "git", ...args]];
    const child = spawn(program, argv, {
      cwd: opts.cwd,
      env,
      stdio: ["pipe", "pipe", "pipe"],
      timeout: timeoutMs,
      killSignal: "SIGKILL",
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.stdin.on("error", () => {
      // git may exit before reading all of stdin; the exit status tells what happened.
    });
    child.on("error", (error) => {
      reject(
        new ImagelessError("failed-precondition", `cannot run git: ${error.message}; install git`, {
          cause: error,
        }),
      );
    });
    child.on("close", (code, signal) => {
      const stderr = scrubSecret(Buffer.concat(err).toString("utf8"), opts.token);
      if (code === 0) {
        resolve({ stdout: Buffer.concat(out), stderr });
        return;
      }
      const timedOut = signal === "SIGKILL";
      const kind: ErrorKind = timedOut ? "unavailable" : classifyGitFailure(stderr);
      const reason = timedOut
        ? `no answer within ${timeoutMs / 1000} s`
        : lastLine(stderr) || `exit status ${code}`;
      reject(
        new ImagelessError(kind, `git ${subcommandOf(args)}: ${reason}`, {
          cause: new Error(`git ${args.join(" ")} exited ${code ?? signal}: ${stderr.trim()}`),
        }),
      );
    });
    child.stdin.end(opts.input ?? "");
  });
}

/**
 * Starts a long-lived git (e.g. `cat-file --batch-command`) with the same clean environment as
 * {@link runGit}; the caller owns the process: it talks over stdin/stdout and ends it. Used by
 * `object-reader.ts`, so git's environment is set up in one place.
 */
export function startGit(
  args: readonly string[],
  opts: Pick<GitOptions, "env" | "cwd"> = {},
): ChildProcessWithoutNullStreams {
  return spawn("git", args, { cwd: opts.cwd, env: gitEnvironment(opts), stdio: ["pipe", "pipe", "pipe"] });
}

/**
 * Starts `git http-backend`, a CGI program: its whole environment is the request's (built by the hub's
 * `cgiEnvironment`, which keeps the host's git config out as {@link gitEnvironment} does), so nothing
 * is added here. Kept beside {@link startGit} so that every git process of the project starts in this
 * module.
 */
export function startGitHttpBackend(env: Readonly<Record<string, string>>): ChildProcessWithoutNullStreams {
  return spawn("git", ["http-backend"], { env, stdio: ["pipe", "pipe", "pipe"] });
}

/**
 * `config` as the GIT_CONFIG_COUNT/KEY_n/VALUE_n variables git reads (pure): config for one process
 * without argv (world-readable in /proc) or a file.
 */
export function gitConfigVariables(config: readonly (readonly [string, string])[]): Record<string, string> {
  if (config.length === 0) return {};
  const env: Record<string, string> = { GIT_CONFIG_COUNT: String(config.length) };
  config.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  return env;
}

/**
 * The environment git runs with (pure). The token travels as `http.extraHeader` through
 * GIT_CONFIG_COUNT/KEY/VALUE variables: argv is world-readable in /proc, a process's environment is not.
 */
export function gitEnvironment(
  opts: Pick<GitOptions, "token" | "authUrl" | "env">,
  path: string = process.env["PATH"] ?? "/usr/bin:/bin",
): Record<string, string> {
  const config: [string, string][] = [...FIXED_CONFIG];
  if (opts.token !== undefined) {
    const basic = Buffer.from(`oauth:${opts.token.reveal()}`).toString("base64");
    const key = opts.authUrl === undefined ? "http.extraHeader" : `http.${opts.authUrl}.extraHeader`;
    config.push([key, `Authorization: Basic ${basic}`]);
  }
  const env: Record<string, string> = {
    PATH: path,
    LC_ALL: "C",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_CONFIG_SYSTEM: "/dev/null",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_TERMINAL_PROMPT: "0",
    ...gitConfigVariables(config),
  };
  return { ...env, ...opts.env };
}

/**
 * The error kind of a failed git command, from its (C-locale) stderr (pure). HTTP 401/403 and refused
 * credentials → `unauthorized`; 404, a missing repository or branch → `not-found`; no connection,
 * DNS, TLS or a 5xx → `unavailable`; anything else → `internal`.
 */
export function classifyGitFailure(stderr: string): ErrorKind {
  const s = stderr.toLowerCase();
  if (
    /returned error: 40[13]\b/.test(s) ||
    /authentication failed|could not read (username|password)/.test(s)
  ) {
    return "unauthorized";
  }
  if (/returned error: 5\d\d\b/.test(s)) return "unavailable";
  if (
    /could not resolve host|failed to connect|connection refused|connection timed out|couldn't connect|operation timed out|connection reset|ssl|empty reply from server|recv failure|send failure/.test(
      s,
    )
  ) {
    return "unavailable";
  }
  if (
    /returned error: 404\b|repository .*not found|does not appear to be a git repository|not a git repository|couldn't find remote ref|no such remote ref/.test(
      s,
    )
  ) {
    return "not-found";
  }
  return "internal";
}

/** `text` with the token and its Basic-auth encoding replaced by `[redacted]` (pure). */
export function scrubSecret(text: string, token?: Secret): string {
  if (token === undefined || token.reveal() === "") return text;
  const value = token.reveal();
  const basic = Buffer.from(`oauth:${value}`).toString("base64");
  return text.split(basic).join("[redacted]").split(value).join("[redacted]");
}

/** The git subcommand in `args`, skipping global options (`--git-dir X`, `-c k=v`, `-C dir`). */
function subcommandOf(args: readonly string[]): string {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (arg === "--git-dir" || arg === "-c" || arg === "-C") i++;
    else if (!arg.startsWith("-")) return arg;
  }
  return "";
}

function lastLine(text: string): string {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  // git's last line is usually the fatal: summary.
  return (lines.at(-1) ?? "").replace(/^(fatal|error): /, "");
}
