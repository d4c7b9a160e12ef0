import { spawn } from "node:child_process";
import { ImagelessError } from "../errors/imageless-error.js";
import { nixChildEnv } from "./owned-settings.js";

/** The Nix programs this project runs; `nix` itself only where the classic tools have no equivalent. */
export type NixProgram = "nix-store" | "nix-build" | "nix";

/** What a failed Nix command left behind, kept as the `cause` of the {@link ImagelessError} for the node log. */
export class NixCommandFailure extends Error {
  override readonly name = "NixCommandFailure";
  constructor(
    readonly command: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`${command.join(" ")} exited with ${exitCode ?? "a signal"}:\n${stderr}`);
  }
}

/** Options of {@link runNix}. */
export interface RunNixOptions {
  /** What was being done, in words (`substituting 2 store paths`): the start of the error message. */
  action: string;
  /** The child's environment before the owned Nix settings are applied (owned-settings.ts); the parent's when omitted. */
  env?: NodeJS.ProcessEnv;
  /**
   * Run Nix holding an exclusive flock(2) on this file (util-linux `flock`, as git.ts does), waiting
   * for other holders; the kernel drops the lock when the holder dies, so it cannot go stale.
   */
  lockFile?: string;
  /** Called with each line of stderr as Nix writes it (progress such as `copying path '…'`). */
  onStderrLine?: (line: string) => void;
}

/**
 * Runs one Nix program and returns its stdout. The only place this project spawns Nix, always with the
 * settings of owned-settings.ts: no nix.conf of the host is read.
 *
 * @throws {ImagelessError} kind `internal` (or `failed-precondition` when the program is missing), with
 * the message `<action>: <nix's last error line>` and a {@link NixCommandFailure} as cause.
 * @example
 * const out = await runNix("nix-store", ["-qR", path], { action: `querying the closure of ${path}` });
 */
export async function runNix(
  program: NixProgram,
  args: readonly string[],
  options: RunNixOptions,
): Promise<string> {
  return (await runNixWithOutput(program, args, options)).stdout;
}

/** The output of a successful Nix command. */
export interface NixOutput {
  stdout: string;
  /** Progress and warnings, e.g. `copying path '…' from '…'`. */
  stderr: string;
}

/**
 * {@link runNix}, also returning stderr for callers that learn from Nix's progress lines.
 *
 * @throws {ImagelessError} as {@link runNix}.
 */
export async function runNixWithOutput(
  program: NixProgram,
  args: readonly string[],
  options: RunNixOptions,
): Promise<NixOutput> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await spawnNixOnce(program, args, options);
    } catch (error) {
      if (attempt < FIRST_USE_ATTEMPTS && isFirstUseRace(nixStderr(error))) continue;
      throw error;
    }
  }
}

// Two Nix processes that are the first to use something race in Nix 2.8's one-time set-up, and the
// loser fails although the winner has by then done the work, so running the loser again passes:
// - a new store: both create <root>/nix/var/nix/gcroots/profiles ("creating symlink … File exists");
// - a new cache URL in the narinfo disk cache (~/.cache/nix/binary-cache-v6.sqlite, "insert or
//   replace"): one fails with "constraint failed".
// On a fresh node two pods starting at once meet exactly this.
const FIRST_USE_ATTEMPTS = 3;

/** True for the stderr of a failure caused by two Nix processes setting up the same thing at once. */
export function isFirstUseRace(stderr: string | undefined): boolean {
  if (stderr === undefined) return false;
  const narinfoCache = /binary-cache-v\d+\.sqlite/.test(stderr) && /constraint failed/.test(stderr);
  const storeSetUp = /creating symlink from '[^']*\/nix\/var\/nix\/[^']*' to '[^']*': File exists/.test(
    stderr,
  );
  return narinfoCache || storeSetUp;
}

function spawnNixOnce(
  program: NixProgram,
  args: readonly string[],
  options: RunNixOptions,
): Promise<NixOutput> {
  return new Promise((resolve, reject) => {
    const env = nixChildEnv(options.env ?? process.env);
    const [command, argv] =
      options.lockFile === undefined ? [program, args] : ["flock", [options.lockFile, program, ...args]];
    const child = spawn(command, argv, { env, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    let partial = "";
    child.stderr.on("data", (chunk: Buffer) => {
      err.push(chunk);
      if (options.onStderrLine === undefined) return;
      const lines = (partial + chunk.toString("utf8")).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) options.onStderrLine(line);
    });
    child.on("error", (error: NodeJS.ErrnoException) => {
      const kind = error.code === "ENOENT" ? "failed-precondition" : "internal";
      const hint =
        error.code === "ENOENT" ? `: '${program}' is not on PATH; install Nix >= 2.8 on the node` : "";
      reject(new ImagelessError(kind, `${options.action}: cannot run ${program}${hint}`, { cause: error }));
    });
    child.on("close", (code) => {
      const stderr = Buffer.concat(err).toString("utf8");
      if (code === 0) {
        resolve({ stdout: Buffer.concat(out).toString("utf8"), stderr });
        return;
      }
      const failure = new NixCommandFailure([program, ...args], code, stderr);
      reject(
        new ImagelessError("internal", `${options.action}: ${lastErrorLine(stderr)}`, { cause: failure }),
      );
    });
  });
}

/**
 * The line of Nix's stderr worth showing a person: the last `error:` line (without the prefix), else
 * the last non-empty line that is not a warning or progress message.
 */
export function lastErrorLine(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
  const errors = lines.filter((line) => line.startsWith("error:"));
  const last = errors.at(-1);
  if (last !== undefined) return last.slice("error:".length).trim();
  const other = lines.filter((line) => !line.startsWith("warning:")).at(-1);
  return other ?? "nix failed without a message";
}

/** The stderr of a failed {@link runNix} call, or undefined for any other error. */
export function nixStderr(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  return error.cause instanceof NixCommandFailure ? error.cause.stderr : undefined;
}
