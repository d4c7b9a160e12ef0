import { execFile } from "node:child_process";

/** What a host tool printed; `code` is undefined when the program could not be started at all. */
export interface HostCommandResult {
  readonly code: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs one host tool the installer needs (`containerd --version`, `containerd config dump`,
 * `systemctl restart …`) and returns what it printed; never throws, callers decide what a failure
 * means (a missing containerd is a fact for detection, not an error). The only spawn of node/install.
 */
export function runHostCommand(
  program: string,
  args: readonly string[],
  opts: { timeoutMs?: number } = {},
): Promise<HostCommandResult> {
  return new Promise((resolve) => {
    execFile(
      program,
      [...args],
      { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 32 * 1024 * 1024, encoding: "utf8" },
      (error, stdout, stderr) => {
        if (error === null) {
          resolve({ code: 0, stdout, stderr });
          return;
        }
        const code = typeof error.code === "number" ? error.code : undefined;
        resolve({ code, stdout: stdout ?? "", stderr: stderr || error.message });
      },
    );
  });
}
