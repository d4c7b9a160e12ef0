/**
 * `imageless node agent`: one long-lived process per node that does the create / exec / delete work
 * of bin/imageless-runc for native/agent-client.c, so no Node process starts per runc call (DESIGN.md).
 * It runs the same code as the in-process fallback ({@link handleRuncCall}); everything it knows
 * about containers is in the state directory, so a restarted agent serves the containers that were
 * started before it (or without it). Authorization still happens per start: each create reads the
 * pod's own token and asks the hub.
 */

import { statSync } from "node:fs";
import { chmod, mkdir, rename, rm, stat } from "node:fs/promises";
import { connect, createServer, type Server, type Socket } from "node:net";
import { dirname } from "node:path";
import { ImagelessError } from "../errors/imageless-error.js";
import type { Logger } from "../log/logger.js";
import { DEFAULT_CONFIG_PATH, loadNodeConfig } from "../node/config.js";
import { nodeStartDeps } from "../node/node-deps.js";
import { nodeLogger } from "../node/node-log.js";
import { parseRuncArgv } from "../runc/argv.js";
import { type CallContext, type CallResult, handleRuncCall, reportCallFailure } from "../runc/handle-call.js";
import {
  ACK_LINE,
  formatAgentReply,
  MAX_REQUEST_BYTES,
  OTHER_CONFIG_REPLY,
  parseAgentRequest,
  servesCaller,
} from "./agent-protocol.js";

/** A running agent. */
export interface NodeAgent {
  readonly socket: string;
  /** Stops accepting calls, waits for the ones in flight and removes the socket. */
  close(): Promise<void>;
}

/**
 * Starts the agent on `[runtime] agent-socket` of the config at `configPath`: a unix socket in a
 * directory only root may enter, the socket itself 0600. Refuses to start beside a live agent.
 *
 * @throws {ImagelessError} `failed-precondition` when another agent answers on the socket.
 * @example
 * const agent = await startNodeAgent("/etc/imageless/config.toml");
 * process.on("SIGTERM", () => void agent.close());
 */
export async function startNodeAgent(configPath: string | undefined): Promise<NodeAgent> {
  const contexts = contextCache(configPath);
  const first = await contexts.current();
  const socket = first.config.runtime.agentSocket;
  await prepareSocketPath(socket);
  const inFlight = new Set<Promise<void>>();
  const server = createServer({ allowHalfOpen: true }, (connection) => {
    const call = serve(connection, contexts, configPath).finally(() => inFlight.delete(call));
    inFlight.add(call);
  });
  // Listen on a private name, restrict it, then rename: the socket is never reachable with wider modes.
  const temporary = `${socket}.${process.pid}.tmp`;
  await rm(temporary, { force: true });
  await listen(server, temporary);
  await chmod(temporary, 0o600);
  await rename(temporary, socket);
  first.log.info("agent.started", { socket });
  return {
    socket,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.allSettled([...inFlight]);
      await rm(socket, { force: true });
      first.log.info("agent.stopped", { socket });
    },
  };
}

/** One connection: read the request to EOF, run the call, answer one line. */
async function serve(
  connection: Socket,
  contexts: ContextCache,
  configPath: string | undefined,
): Promise<void> {
  // A client gone mid-call (killed, or it gave up waiting) makes the reply's write fail: not a crash.
  connection.on("error", () => {});
  const chunks: Buffer[] = [];
  let size = 0;
  const request = await new Promise<Buffer | undefined>((resolve) => {
    connection.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES) {
        connection.destroy();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    connection.once("end", () => resolve(Buffer.concat(chunks)));
    connection.once("error", () => resolve(undefined));
  });
  if (request === undefined) return;
  // "ack" before any work, and no work unless it reached the client: a client that gave up waiting
  // (native/agent-client.c falls back in-process after a bounded wait for it) has closed the socket.
  if (!(await acknowledge(connection))) return;
  let result: CallResult;
  let log: Logger | undefined;
  // Work that need not hold up runc (a create's telemetry): done once the reply is written.
  const deferred: (() => Promise<void>)[] = [];
  try {
    const parsed = parseAgentRequest(request);
    if (!servesCaller(configPath, parsed.env, DEFAULT_CONFIG_PATH)) {
      connection.end(OTHER_CONFIG_REPLY);
      return;
    }
    const ctx = await contexts.current();
    log = ctx.log;
    const invocation = parseRuncArgv(parsed.argv);
    const callContext = {
      ...ctx,
      cwd: parsed.cwd,
      disableVariable: parsed.env["FLOX_DISABLE_METRICS"],
      afterReply: (work: () => Promise<void>) => deferred.push(work),
    };
    const started = Date.now();
    result = await handleRuncCall(invocation, callContext);
    const ms = Date.now() - started;
    // Logged once the reply is out: a log line is an open+write+close that runc need not wait for.
    deferred.push(async () =>
      ctx.log.debug("agent.call", { command: invocation.command, container: invocation.containerId, ms }),
    );
  } catch (error) {
    // A request that does not parse or a config that no longer loads: report like the wrapper would.
    const invocation = parseRuncArgv(safeArgv(request));
    const message = reportCallFailure(invocation, error, log);
    result = invocation.command === "delete" ? { kind: "run" } : { kind: "fail", message };
  }
  connection.end(formatAgentReply(result));
  // Part of this call's promise, so close() still waits for it; each piece never throws.
  for (const work of deferred) await work();
}

/** Writes the "ack" line; false when the client is gone (the write fails: EPIPE). */
function acknowledge(connection: Socket): Promise<boolean> {
  return new Promise((resolve) => {
    connection.once("close", () => resolve(false));
    connection.write(ACK_LINE, (error) => resolve(error == null));
  });
}

/** The argv of a request that failed to parse as a whole, as far as it can be read (for --log). */
function safeArgv(request: Buffer): string[] {
  return request
    .toString("utf8")
    .split("\0")
    .filter((field) => field.startsWith("A"))
    .map((field) => field.slice(1));
}

interface ContextCache {
  current(): Promise<Omit<CallContext, "cwd" | "disableVariable">>;
}

/**
 * The config and the start pipeline's edges, rebuilt when the config file changes (the wrapper reads
 * the config on every call; operators and tests edit it without restarting anything).
 */
function contextCache(configPath: string | undefined): ContextCache {
  let cached: { stamp: string; value: Omit<CallContext, "cwd" | "disableVariable"> } | undefined;
  return {
    async current() {
      const stamp = configStamp(configPath);
      if (cached !== undefined && cached.stamp === stamp) return cached.value;
      const { config, warnings } = await loadNodeConfig(configPath);
      const log: Logger = nodeLogger(config, { agent: 1 });
      for (const warning of warnings) log.warn("config.warning", { warning });
      const value = { config, log, deps: nodeStartDeps(config, log) };
      cached = { stamp, value };
      return value;
    },
  };
}

/** Synchronous: checked on every call, and a stat costs µs where an awaited one costs a wake-up. */
function configStamp(configPath: string | undefined): string {
  try {
    const info = statSync(configPath ?? DEFAULT_CONFIG_PATH);
    return `${info.mtimeMs}:${info.size}:${info.ino}`;
  } catch {
    return "missing";
  }
}

/**
 * Makes the socket's directory (root-only when we create it), checks that no other user could put a
 * socket of their own there, and clears a stale socket.
 *
 * Who may call: Node has no API for a connection's SO_PEERCRED, so the agent cannot check each
 * caller's uid itself; access rests on the file system instead: the socket is 0600 (connecting needs
 * write permission on it, i.e. our own uid) in a directory that only we may write (checked here, so
 * the socket cannot be replaced by someone else's). The other direction is checked per call: the
 * client (native/agent-client.c) talks only to an agent with its own uid (SO_PEERCRED).
 */
async function prepareSocketPath(socket: string): Promise<void> {
  const dir = dirname(socket);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const info = await stat(dir);
  const uid = process.getuid?.();
  if ((uid !== undefined && info.uid !== uid) || (info.mode & 0o022) !== 0) {
    throw new ImagelessError(
      "failed-precondition",
      `node agent: the socket directory ${dir} is ${info.uid === uid ? "" : `owned by uid ${info.uid} and `}mode ${(info.mode & 0o777).toString(8)}; accepted is a directory owned by this user (uid ${uid}) that no one else may write (e.g. chmod 0700)`,
    );
  }
  if (await answers(socket)) {
    throw new ImagelessError(
      "failed-precondition",
      `node agent: another agent is already listening on ${socket}; stop it first or set [runtime] agent-socket`,
    );
  }
  await rm(socket, { force: true });
}

function answers(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(socket);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
}

function listen(server: Server, socket: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(socket, () => {
      server.off("error", reject);
      resolve();
    });
  });
}
