import { spawn } from "node:child_process";
import { accessSync, constants as fsConstants, realpathSync, statSync } from "node:fs";
import { constants } from "node:os";
import { delimiter, isAbsolute, join } from "node:path";
import { ImagelessError } from "../errors/imageless-error.js";

/** Signals a caller sends to stop a runc call; passed on so runc (not just this process) sees them. */
const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ["SIGTERM", "SIGINT", "SIGHUP"];

/**
 * Runs the real runc with the wrapper's argv and ends this process the way runc ended: same exit
 * code, or the same signal. Node cannot execve, so runc is a child with inherited fds 0-2 (the shim
 * passes FIFOs or a tty there), in the same cwd and environment.
 *
 * Not forwarded: fds above 2 (`--preserve-fds`, which containerd's shim does not use), and the
 * shim's Pdeathsig, which applies to this process only.
 *
 * @throws {ImagelessError} `failed-precondition` when runc cannot be started at all
 * @example
 * await runRealRunc(resolveRealRunc(config.runtime.runc, process.argv[1] ?? "", process.env.PATH ?? ""), process.argv.slice(2));
 */
export function runRealRunc(runcPath: string, argv: readonly string[]): Promise<never> {
  return new Promise<never>((_resolve, reject) => {
    const child = spawn(runcPath, argv, { stdio: "inherit" });
    const forward = (signal: NodeJS.Signals): void => {
      child.kill(signal);
    };
    for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
    const stopForwarding = (): void => {
      for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
    };
    child.once("error", (error) => {
      stopForwarding();
      const code = "code" in error ? String(error.code) : error.message;
      reject(
        new ImagelessError("failed-precondition", `runc ${runcPath}: cannot run it: ${code}`, {
          cause: error,
        }),
      );
    });
    child.once("exit", (code, signal) => {
      stopForwarding();
      if (signal !== null) {
        // Die of the same signal so the shim sees what runc's death looked like; our handlers are off,
        // so the default action applies. Exit 128+n if the signal is ignored or caught anyway.
        process.kill(process.pid, signal);
        setTimeout(() => process.exit(128 + (constants.signals[signal] ?? 0)), 100);
        return;
      }
      process.exit(code ?? 1);
    });
  });
}

/**
 * The real runc to run: `configured` (`[runtime] runc`) when set, else the first executable `runc`
 * on `pathEnv` whose real path is not the wrapper itself (the wrapper may be installed as `runc` on
 * PATH). `bin/imageless-runc` applies the same rule in sh.
 *
 * @param configured `[runtime] runc`, `""` when unset
 * @param self the wrapper's own path (symlinks are resolved)
 * @param pathEnv a PATH value; empty entries are skipped, since they would mean the cwd (the bundle)
 * @throws {ImagelessError} `failed-precondition` when the configured runc is the wrapper or none is found
 * @example
 * resolveRealRunc("", "/opt/imageless/bin/imageless-runc", "/usr/local/sbin:/usr/sbin"); // "/usr/sbin/runc"
 */
export function resolveRealRunc(configured: string, self: string, pathEnv: string): string {
  const selfReal = realOrSelf(self);
  if (configured !== "") {
    if (realOrSelf(configured) === selfReal) {
      throw new ImagelessError(
        "failed-precondition",
        `[runtime] runc: cannot use ${JSON.stringify(configured)}: it is this wrapper; accepted value is the real runc`,
      );
    }
    return configured;
  }
  for (const dir of pathEnv.split(delimiter)) {
    if (dir === "" || !isAbsolute(dir)) continue;
    const candidate = join(dir, "runc");
    if (isExecutableFile(candidate) && realOrSelf(candidate) !== selfReal) return candidate;
  }
  throw new ImagelessError(
    "failed-precondition",
    `runc: no runc on PATH ${JSON.stringify(pathEnv)} other than this wrapper: install runc or set [runtime] runc in the node config`,
  );
}

function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
