import type { IncomingMessage, ServerResponse } from "node:http";
import { gitConfigVariables, startGitHttpBackend } from "../../git/run-git.js";
import type { Logger } from "../../log/logger.js";

/** What one git smart-HTTP request may do. Authentication happens in front of this, in the hub. */
export interface GitHttpOptions {
  /** Directory holding `<owner>/floxmeta` bare repositories. */
  readonly projectRoot: string;
  /** The path below the git mount, e.g. `/acme/floxmeta/info/refs`. */
  readonly pathInfo: string;
  /** Serve `git-receive-pack` (push); refused with 403 otherwise. */
  readonly allowPush: boolean;
  /** The authenticated user, passed to git as REMOTE_USER (it shows in reflogs). */
  readonly remoteUser?: string;
  /** Extra git config for this request (e.g. `transfer.hideRefs`), as GIT_CONFIG_* variables. */
  readonly config?: readonly (readonly [string, string])[];
  /** Extra environment for git and its hooks (e.g. what a pre-receive hook may allow). */
  readonly env?: Readonly<Record<string, string>>;
  /** Serve protocol v0 even when the client asks for v2 (v0 checks every want against visible refs). */
  readonly protocolV0?: boolean;
  /** Runs after git finished and before the response ends (the client is still waiting). */
  readonly beforeEnd?: (exitCode: number | null) => Promise<void>;
  readonly log?: Logger;
}

/**
 * Serves one git smart-HTTP request by running the real `git http-backend` as a CGI program: the
 * request body streams in, the CGI headers (`Status:` included) are parsed and the rest streams out.
 *
 * @example
 * createServer((req, res) => {
 *   void handleGitHttp(req, res, { projectRoot: "/srv/floxmeta", pathInfo: req.url?.slice(4) ?? "", allowPush: false });
 * });
 */
export async function handleGitHttp(
  req: IncomingMessage,
  res: ServerResponse,
  opts: GitHttpOptions,
): Promise<void> {
  const query = (req.url ?? "").split("?")[1] ?? "";
  if (!isSafePathInfo(opts.pathInfo)) {
    reply(res, 400, "bad repository path\n");
    return;
  }
  if (isPush(opts.pathInfo, query) && !opts.allowPush) {
    req.resume();
    reply(res, 403, "pushing to this repository is not allowed\n");
    return;
  }
  const child = startGitHttpBackend(cgiEnvironment(req, opts, query));
  const stderr: Buffer[] = [];
  child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
  child.stdin.on("error", () => {
    // http-backend may answer (e.g. 404) without reading the body.
  });
  req.pipe(child.stdin);
  res.on("close", () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  });

  await new Promise<void>((resolve) => {
    let head = Buffer.alloc(0);
    let headersSent = false;
    child.stdout.on("data", (chunk: Buffer) => {
      if (headersSent) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const split = headerEnd(head);
      if (split === undefined) return;
      writeCgiHead(res, head.subarray(0, split.at).toString("latin1"));
      headersSent = true;
      res.write(head.subarray(split.at + split.length));
    });
    child.on("error", (error) => {
      opts.log?.error("hub.git.spawn_failed", { error: error.message });
      if (!headersSent) reply(res, 500, "git is not available\n");
      resolve();
    });
    child.on("close", async (code) => {
      // git may stop reading early (receive.maxInputSize, a refused push): read the rest of the body
      // away, or the connection would stay open with a paused request and the hub could never close.
      if (!req.complete) {
        req.unpipe(child.stdin);
        req.resume();
      }
      if (opts.beforeEnd !== undefined) {
        await opts.beforeEnd(code).catch((error: unknown) => {
          opts.log?.error("hub.git.before_end_failed", { error: String(error) });
        });
      }
      if (code !== 0) {
        opts.log?.warn("hub.git.backend_failed", {
          path: opts.pathInfo,
          code,
          stderr: Buffer.concat(stderr).toString("utf8").trim().slice(0, 500),
        });
      }
      if (!headersSent) reply(res, 502, "git http-backend gave no response\n");
      else res.end();
      resolve();
    });
  });
}

/** What the CGI environment needs of a request (an IncomingMessage has all of it). */
export interface CgiRequest {
  readonly method?: string | undefined;
  readonly headers: IncomingMessage["headers"];
  readonly socket: { readonly remoteAddress?: string | undefined };
}

/** The CGI environment for `git http-backend` (pure apart from reading the request's headers). */
export function cgiEnvironment(req: CgiRequest, opts: GitHttpOptions, query: string): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env["PATH"] ?? "/usr/bin:/bin",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_CONFIG_SYSTEM: "/dev/null",
    GIT_PROJECT_ROOT: opts.projectRoot,
    GIT_HTTP_EXPORT_ALL: "1",
    PATH_INFO: opts.pathInfo,
    QUERY_STRING: query,
    REQUEST_METHOD: req.method ?? "GET",
    CONTENT_TYPE: header(req, "content-type") ?? "",
    REMOTE_ADDR: req.socket.remoteAddress ?? "",
  };
  const length = header(req, "content-length");
  if (length !== undefined) env["CONTENT_LENGTH"] = length;
  // git clients gzip large request bodies; http-backend inflates them when told.
  const encoding = header(req, "content-encoding");
  if (encoding !== undefined) env["HTTP_CONTENT_ENCODING"] = encoding;
  // Protocol v2 is negotiated through this header (git ≥ 2.18 clients send it).
  const protocol = header(req, "git-protocol");
  if (protocol !== undefined && /^[A-Za-z0-9=:._-]+$/.test(protocol) && opts.protocolV0 !== true) {
    env["GIT_PROTOCOL"] = protocol;
  }
  if (opts.remoteUser !== undefined) env["REMOTE_USER"] = opts.remoteUser;
  // http-backend serves receive-pack only to an authenticated REMOTE_USER unless told otherwise;
  // the hub has already decided, so say so explicitly.
  const config = [...(opts.allowPush ? [["http.receivepack", "true"] as const] : []), ...(opts.config ?? [])];
  return { ...opts.env, ...env, ...gitConfigVariables(config) };
}

/** True for a request that would push (the ref advertisement or the pack upload of receive-pack). */
export function isPush(pathInfo: string, query: string): boolean {
  return (
    pathInfo.endsWith("/git-receive-pack") || new URLSearchParams(query).get("service") === "git-receive-pack"
  );
}

function isSafePathInfo(pathInfo: string): boolean {
  return pathInfo.startsWith("/") && !pathInfo.includes("\0") && !pathInfo.split("/").includes("..");
}

function header(req: CgiRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function headerEnd(buffer: Buffer): { at: number; length: number } | undefined {
  const crlf = buffer.indexOf("\r\n\r\n");
  const lf = buffer.indexOf("\n\n");
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { at: crlf, length: 4 };
  return lf >= 0 ? { at: lf, length: 2 } : undefined;
}

/** A CGI response head: `Status:` and the other header lines (pure). */
export interface CgiHead {
  readonly status: number;
  readonly message?: string;
  readonly headers: readonly (readonly [string, string])[];
}

export function parseCgiHead(head: string): CgiHead {
  let status = 200;
  let message: string | undefined;
  const headers: [string, string][] = [];
  for (const line of head.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === "status") {
      const match = /^(\d{3})\s*(.*)$/.exec(value);
      if (match !== null) {
        status = Number(match[1]);
        message = match[2] || undefined;
      }
    } else {
      headers.push([name, value]);
    }
  }
  return { status, ...(message === undefined ? {} : { message }), headers };
}

function writeCgiHead(res: ServerResponse, text: string): void {
  const head = parseCgiHead(text);
  for (const [name, value] of head.headers) res.setHeader(name, value);
  res.statusCode = head.status;
  if (head.message !== undefined) res.statusMessage = head.message;
}

/**
 * The whole response of a GET `info/refs?service=git-upload-pack` (the ref advertisement) for the view
 * `opts.config`, from one `git http-backend` run, kept in memory by the caller (git-service.ts).
 */
export async function captureAdvertisement(
  opts: Pick<GitHttpOptions, "projectRoot" | "pathInfo" | "config" | "remoteUser">,
): Promise<CgiHead & { readonly body: Buffer }> {
  const query = "service=git-upload-pack";
  const request: CgiRequest = { method: "GET", headers: {}, socket: {} };
  const env = cgiEnvironment(request, { ...opts, allowPush: false, protocolV0: true }, query);
  const child = startGitHttpBackend(env);
  child.stdin.end();
  child.stderr.resume();
  const out: Buffer[] = [];
  child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", resolve);
  });
  const whole = Buffer.concat(out);
  const split = headerEnd(whole);
  if (code !== 0 || split === undefined) throw new Error(`git http-backend exited ${code} advertising refs`);
  return {
    ...parseCgiHead(whole.subarray(0, split.at).toString("latin1")),
    body: whole.subarray(split.at + split.length),
  };
}

function reply(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8" });
  res.end(text);
}
