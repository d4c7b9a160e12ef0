/**
 * Reads a branch tip from a git smart-HTTP server's ref advertisement, without a git process: one
 * GET over a kept-alive connection (`Authorization: Basic oauth:<token>`, as git sends it for Flox).
 * Concurrent lookups of the same repository with the same token share one request. Works against
 * this project's hub and any git smart-HTTP server (hub.flox.dev's included).
 */
import { createHash } from "node:crypto";
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { type ErrorKind, ImagelessError } from "../errors/imageless-error.js";
import type { Secret } from "../log/secret.js";
import { ADVERTISEMENT_CONTENT_TYPE, parseRefAdvertisement } from "./ref-advertisement.js";

/** What a lookup found: the tip, no such branch, or a server this client cannot read (use git). */
export type TipLookup =
  | { readonly kind: "tip"; readonly commit: string }
  | { readonly kind: "absent" }
  | { readonly kind: "not-smart"; readonly why: string };

/** A client with kept-alive connections; one per process (the agent keeps it for its lifetime). */
export interface RefAdvertisementClient {
  /**
   * The tip of `refs/heads/<branch>` of the repository at `repoUrl` (http or https).
   *
   * @throws {ImagelessError} `unauthorized` (401/403), `not-found` (404), `unavailable` (no
   *   connection, timeout, 5xx, an unreadable body).
   */
  branchTip(repoUrl: string, branch: string, token: Secret | undefined): Promise<TipLookup>;
}

/** Kill a lookup after this long: a hung hub must not hang a container start. */
const TIMEOUT_MS = 30_000;

/**
 * @example
 * const refs = createRefAdvertisementClient();
 * await refs.branchTip("https://api.flox.dev/git/acme/floxmeta", "web", token); // { kind: "tip", commit: "3f…" }
 */
export function createRefAdvertisementClient(): RefAdvertisementClient {
  const agents = {
    http: new HttpAgent({ keepAlive: true, maxSockets: 16 }),
    https: new HttpsAgent({ keepAlive: true, maxSockets: 16 }),
  };
  const inFlight = new Map<string, Promise<Map<string, string> | { readonly notSmart: string }>>();
  return {
    async branchTip(repoUrl, branch, token) {
      const key = `${repoUrl}\0${tokenKey(token)}`;
      let pending = inFlight.get(key);
      if (pending === undefined) {
        pending = advertisedRefs(repoUrl, token, agents).finally(() => inFlight.delete(key));
        inFlight.set(key, pending);
      }
      const refs = await pending;
      if (!(refs instanceof Map)) return { kind: "not-smart", why: refs.notSmart };
      const commit = refs.get(`refs/heads/${branch}`);
      return commit === undefined ? { kind: "absent" } : { kind: "tip", commit };
    },
  };
}

/** Shares a lookup only between callers with the same token (each start is authorised by its own). */
function tokenKey(token: Secret | undefined): string {
  return token === undefined ? "" : createHash("sha256").update(token.reveal()).digest("hex");
}

async function advertisedRefs(
  repoUrl: string,
  token: Secret | undefined,
  agents: { http: HttpAgent; https: HttpsAgent },
): Promise<Map<string, string> | { readonly notSmart: string }> {
  const url = new URL(`${repoUrl}/info/refs?service=git-upload-pack`);
  const https = url.protocol === "https:";
  // Without a token, Basic `oauth:` with an empty password, as Flox's credential helper sends (and as
  // git.ts does for ls-remote): a hub with private environments then serves the public view.
  const basic = Buffer.from(`oauth:${token?.reveal() ?? ""}`).toString("base64");
  const response = await new Promise<{ status: number; type: string; body: Buffer }>((resolve, reject) => {
    const request = (https ? httpsRequest : httpRequest)(
      url,
      {
        agent: https ? agents.https : agents.http,
        headers: { Authorization: `Basic ${basic}`, "User-Agent": "git/imageless", Accept: "*/*" },
        timeout: TIMEOUT_MS,
      },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.once("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            type: String(res.headers["content-type"] ?? ""),
            body: Buffer.concat(chunks),
          }),
        );
        res.once("error", reject);
      },
    );
    request.once("timeout", () => request.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)));
    request.once("error", reject);
    request.end();
  }).catch((error: unknown) => {
    // A network error names the host and port, never the header.
    throw new ImagelessError("unavailable", `GET info/refs: ${(error as Error).message}`, { cause: error });
  });
  if (response.status >= 300 && response.status < 400) {
    return { notSmart: `HTTP ${response.status} redirect` };
  }
  if (response.status !== 200) {
    throw new ImagelessError(statusKind(response.status), `GET info/refs: HTTP ${response.status}`);
  }
  if (!response.type.startsWith(ADVERTISEMENT_CONTENT_TYPE)) {
    return { notSmart: `content type ${JSON.stringify(response.type)}` };
  }
  return parseRefAdvertisement(response.body);
}

/** The error kind of an HTTP status, as git.ts classifies git's own (pure). */
export function statusKind(status: number): ErrorKind {
  if (status === 401 || status === 403) return "unauthorized";
  if (status === 404) return "not-found";
  if (status >= 500 || status === 429 || status === 408) return "unavailable";
  return "internal";
}
