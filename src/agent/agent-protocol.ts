/**
 * The wire format between native/agent-client.c and the node agent, in one place. A request is a
 * sequence of NUL-terminated fields, each a one-letter tag and a value — `C` the caller's cwd, `E` a
 * forwarded `NAME=value`, `A` one runc argument — ended by the client closing its writing half. The
 * reply is `ack` ({@link ACK_LINE}, written before any work), then zero or more `out <line>` lines (for the container's log: runc create's stderr is the
 * container's, and the client prints them there) and then one line: `run` (exec runc now) or
 * `fail <message>` (already written to runc's --log). An agent serves only callers that use its own
 * node config: to any other it answers `other-config` ({@link OTHER_CONFIG_REPLY}), and the client does
 * the work in-process, so a second containerd on the machine (a test's, the demo's) never gets the
 * node's agent and its config.
 */
import { resolve } from "node:path";
import { ImagelessError } from "../errors/imageless-error.js";
import type { CallResult } from "../runc/handle-call.js";

/** One runc call as the client sent it. */
export interface AgentRequest {
  readonly cwd: string;
  /** The forwarded variables of the caller (containerd's environment), by name. */
  readonly env: Readonly<Record<string, string>>;
  /** runc's argv without the program name. */
  readonly argv: readonly string[];
}

/** Variables the agent takes from a request; the client forwards the same list. */
const FORWARDED = new Set(["FLOX_DISABLE_METRICS", "IMAGELESS_CONFIG"]);

/** Requests are a few hundred bytes; anything past this is not from our client. */
export const MAX_REQUEST_BYTES = 1 << 20;

/**
 * Parses a whole request (pure).
 *
 * @throws {ImagelessError} `invalid-input` naming what is wrong with it.
 * @example
 * parseAgentRequest(Buffer.from("C/b\0Adelete\0Aabc\0")); // { cwd: "/b", env: {}, argv: ["delete", "abc"] }
 */
export function parseAgentRequest(data: Buffer): AgentRequest {
  if (data.length > MAX_REQUEST_BYTES) {
    throw new ImagelessError(
      "invalid-input",
      `agent request: ${data.length} bytes, accepted are at most ${MAX_REQUEST_BYTES}`,
    );
  }
  if (data.length === 0 || data[data.length - 1] !== 0) {
    throw new ImagelessError(
      "invalid-input",
      "agent request: not NUL-terminated fields; accepted is what imageless-agent-client sends",
    );
  }
  let cwd: string | undefined;
  const env: Record<string, string> = {};
  const argv: string[] = [];
  for (const field of data
    .subarray(0, data.length - 1)
    .toString("utf8")
    .split("\0")) {
    const tag = field.slice(0, 1);
    const value = field.slice(1);
    if (tag === "C") cwd = value;
    else if (tag === "A") argv.push(value);
    else if (tag === "E") {
      const eq = value.indexOf("=");
      const name = value.slice(0, eq);
      if (eq > 0 && FORWARDED.has(name)) env[name] = value.slice(eq + 1);
    } else {
      throw new ImagelessError(
        "invalid-input",
        `agent request: field tag ${JSON.stringify(tag)}, accepted are "C", "E" and "A"`,
      );
    }
  }
  if (cwd === undefined || !cwd.startsWith("/")) {
    throw new ImagelessError("invalid-input", "agent request: no absolute cwd (field C)");
  }
  return { cwd, env, argv };
}

/**
 * The one reply line for a call's result (pure). A message stays one line: the client reads up to
 * the first newline.
 *
 * @example
 * formatAgentReply({ kind: "fail", message: "environment 'acme/x' not found" }); // "fail environment 'acme/x' not found\n"
 */
export function formatAgentReply(result: CallResult): string {
  if (result.kind === "run") {
    const out = (result.containerOutput ?? []).map((line) => `out ${line.replace(/[\r\n]+/g, " ")}\n`);
    return `${out.join("")}run\n`;
  }
  return `fail ${result.message.replace(/[\r\n]+/g, " ")}\n`;
}

/**
 * The first line of every reply, written before any work: the client waits a bounded time for it and
 * then does the call in-process, so the agent starts a call's work only once this line was written.
 */
export const ACK_LINE = "ack\n";

/** The reply to a caller whose node config is not the agent's: the client then works in-process. */
export const OTHER_CONFIG_REPLY = "other-config\n";

/**
 * Whether a request comes from a caller using the agent's own node config (pure): the config path the
 * caller's environment names (`IMAGELESS_CONFIG`, else the default), compared as absolute paths.
 *
 * @example
 * servesCaller("/etc/imageless/config.toml", {}, "/etc/imageless/config.toml"); // true
 * servesCaller("/etc/imageless/config.toml", { IMAGELESS_CONFIG: "/tmp/demo.toml" }, "/etc/imageless/config.toml"); // false
 */
export function servesCaller(
  agentConfig: string | undefined,
  callerEnv: Readonly<Record<string, string>>,
  defaultConfig: string,
): boolean {
  const callerConfig = callerEnv["IMAGELESS_CONFIG"] || defaultConfig;
  return resolve(agentConfig || defaultConfig) === resolve(callerConfig);
}
