/**
 * `imageless node agent` as a real process for tests, and the static agent client it needs beside
 * bin/imageless-runc (built from native/ with gcc when missing, as scripts/setup.sh does).
 */
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { repoRoot } from "./repo-root.js";

const run = promisify(execFile);

/** A running agent started by {@link startAgentProcess}. */
export interface AgentProcess {
  readonly pid: number;
  /** Stops it with SIGTERM (it finishes calls in flight and removes its socket). Safe to call twice. */
  stop(): Promise<void>;
}

/** Builds bin/imageless-agent-client unless it is there. */
export async function ensureAgentClient(): Promise<void> {
  if (existsSync(join(repoRoot(), "bin", "imageless-agent-client"))) return;
  await run(join(repoRoot(), "native", "build.sh"));
}

/**
 * Starts the agent for the node config at `configPath` and waits until it listens.
 *
 * @example
 * const agent = await startAgentProcess(node.configPath);
 * t.after(() => agent.stop());
 */
export async function startAgentProcess(configPath: string): Promise<AgentProcess> {
  await ensureAgentClient();
  const child = spawn(
    process.execPath,
    [join(repoRoot(), "dist", "src", "main", "imageless.js"), "node", "agent", "--config", configPath],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error("node agent did not start");
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
      if (out.includes("listening on")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`node agent exited ${code} before listening: ${stderr}`)));
  });
  let stopped = false;
  return {
    pid,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
