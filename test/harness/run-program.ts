import { spawn } from "node:child_process";

/** How a program ended and what it printed. */
export interface ProgramRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of {@link runProgram}. */
export interface RunProgramOptions {
  /** The whole environment of the child (not merged with the parent's); the parent's when absent. */
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Written to stdin, which is then closed; stdin is /dev/null when absent. */
  readonly input?: string;
}

/**
 * Runs `file` with `args` to its end and collects its output, whatever its exit code: the one way the
 * tests and the demo run the CLI (and other programs) as a user would.
 *
 * @example
 * const { code, stdout } = await runProgram(join(repoRoot(), "bin", "imageless"), ["--version"]);
 */
export function runProgram(
  file: string,
  args: readonly string[],
  options: RunProgramOptions = {},
): Promise<ProgramRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      ...(options.env === undefined ? {} : { env: options.env }),
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (c: Buffer) => out.push(c));
    child.stderr?.on("data", (c: Buffer) => err.push(c));
    child.on("error", reject);
    child.on("close", (code) =>
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }),
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}
