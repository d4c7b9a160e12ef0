/**
 * A private PostgreSQL 15 (Debian's packages, installed by scripts/setup.sh) for one test run: its
 * own cluster in a temp directory, owned by the `postgres` user, listening only on a unix socket in
 * that directory (no TCP port is opened). Stopped by PID, never by name.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { chown } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { stopChild } from "./stop-child.js";
import { makeTempDir, removeTree } from "./temp.js";

const run = promisify(execFile);
const BIN = "/usr/lib/postgresql/15/bin";

/** A running private PostgreSQL server. */
export interface PostgresServer {
  readonly pid: number;
  /** The directory holding the cluster and the socket. */
  readonly dir: string;
  /** A `postgres://` URL of `database` on this server (socket directory and port in the query). */
  url(database: string): string;
  /** Creates an empty database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** The server's log so far (for failure messages). */
  log(): string;
  /** Stops the server (fast shutdown, then SIGKILL) and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts a private PostgreSQL. Needs root (to run the server as `postgres`).
 *
 * @example
 * const pgServer = await startPostgres();
 * after(() => pgServer.stop());
 * const url = await pgServer.createDatabase("hub_test");
 */
export async function startPostgres(): Promise<PostgresServer> {
  const dir = await makeTempDir("postgres");
  let child: ChildProcess | undefined;
  const output: string[] = [];
  const stop = async () => {
    if (child !== undefined)
      await stopChild(child, {
        // SIGINT is PostgreSQL's "fast shutdown": it ends sessions and stops without waiting for clients.
        signal: "SIGINT",
        onKill: () => output.push("postgres did not stop in 10 s; killing it\n"),
      });
    child = undefined;
    await removeTree(dir);
  };
  try {
    const uid = Number((await run("id", ["-u", "postgres"])).stdout.trim());
    const gid = Number((await run("id", ["-g", "postgres"])).stdout.trim());
    await chown(dir, uid, gid);
    const data = join(dir, "data");
    await run(
      join(BIN, "initdb"),
      ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"],
      {
        uid,
        gid,
        cwd: dir,
      },
    );
    // Random port: it only names the socket file (.s.PGSQL.<port>) in our own directory.
    const port = 20000 + Math.floor(Math.random() * 20000);
    child = spawn(
      join(BIN, "postgres"),
      [
        "-D",
        data,
        "-k",
        dir,
        "-p",
        String(port),
        "-c",
        "listen_addresses=",
        "-c",
        "fsync=off",
        "-c",
        "full_page_writes=off",
      ],
      { uid, gid, cwd: dir, stdio: ["ignore", "pipe", "pipe"] },
    );
    child.stdout?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    const url = (database: string) =>
      `postgres://postgres@localhost/${database}?host=${encodeURIComponent(dir)}&port=${port}`;
    await waitReady(url("postgres"), child, output);
    const pid = child.pid ?? 0;
    return {
      pid,
      dir,
      url,
      createDatabase: async (name) => {
        const client = new pg.Client({ connectionString: url("postgres") });
        await client.connect();
        try {
          await client.query(`CREATE DATABASE "${name.replace(/"/g, "")}"`);
        } finally {
          await client.end();
        }
        return url(name);
      },
      log: () => output.join(""),
      stop,
    };
  } catch (error) {
    await stop();
    throw new Error(`cannot start PostgreSQL: ${(error as Error).message}\n${output.join("")}`, {
      cause: error,
    });
  }
}

async function waitReady(url: string, child: ChildProcess, output: string[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`postgres exited with ${child.exitCode}: ${output.join("")}`);
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.query("SELECT 1");
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    } finally {
      await client.end().catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
