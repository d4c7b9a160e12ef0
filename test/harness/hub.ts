/**
 * A real hub process for tests: `bin/imageless hub serve` on a free port with a temp data directory
 * and an admin user created through `bin/imageless hub user create`. Stopped by PID, never by name.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { repoRoot } from "./repo-root.js";
import { stopChild } from "./stop-child.js";
import { makeTempDir, removeTree } from "./temp.js";

const run = promisify(execFile);

/** A running hub process. */
export interface HubProcess {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly dataDir: string;
  /** A user token of `admin` (or the `user` asked for), a hub admin. */
  readonly adminToken: string;
  readonly pid: number;
  /** The hub's JSON-lines log so far. */
  log(): string;
  /** Stops the hub (SIGTERM, then SIGKILL) and removes its data directory. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts a hub process; with `database` it uses that PostgreSQL URL (passed in the environment, not
 * argv), else SQLite in its data directory (`dataDir`, a new temp dir when absent; removed by stop).
 *
 * @example
 * const hub = await startHubProcess();
 * after(() => hub.stop());
 * await fetch(`${hub.url}/api/v1/accounts/me`, { headers: { authorization: `Bearer ${hub.adminToken}` } });
 */
export async function startHubProcess(
  opts: { database?: string; dataDir?: string; user?: string } = {},
): Promise<HubProcess> {
  const dataDir = opts.dataDir ?? (await makeTempDir("hub"));
  const user = opts.user ?? "admin";
  const cli = join(repoRoot(), "bin", "imageless");
  const env = {
    ...process.env,
    ...(opts.database === undefined ? {} : { IMAGELESS_HUB_DATABASE: opts.database }),
  };
  let child: ChildProcess | undefined;
  const output: string[] = [];
  const stop = async () => {
    if (child !== undefined) await stopChild(child);
    child = undefined;
    await removeTree(dataDir);
  };
  try {
    const created = await run(cli, ["hub", "user", "create", user, "--admin", "--data-dir", dataDir], {
      env,
    });
    const adminToken = created.stdout.trim();
    child = spawn(cli, ["hub", "serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    const url = await waitListening(child, output);
    return { url, dataDir, adminToken, pid: child.pid ?? 0, log: () => output.join(""), stop };
  } catch (error) {
    await stop();
    throw new Error(`cannot start the hub: ${(error as Error).message}\n${output.join("")}`, {
      cause: error,
    });
  }
}

/** Waits for the `hub.listening` log line and returns its URL. */
async function waitListening(child: ChildProcess, output: string[]): Promise<string> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const match = /"event":"hub\.listening"[^\n]*"url":"([^"]+)"/.exec(output.join(""));
    if (match?.[1] !== undefined) return match[1];
    if (child.exitCode !== null) throw new Error(`hub exited with status ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error("hub did not listen within 20 s");
    await new Promise((r) => setTimeout(r, 50));
  }
}
