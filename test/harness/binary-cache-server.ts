import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { join, normalize } from "node:path";

/** A running HTTP view of a binary cache directory. */
export interface BinaryCacheServer {
  /** `http://127.0.0.1:<port>`, usable as a Nix substituter. */
  url: string;
  /** GET count per request path (`/nar/….nar.zst`, `/<hash>.narinfo`), including 404s. */
  requests: Map<string, number>;
  /** Every `Authorization` header received, in order (a capture server's evidence). */
  authorizations: string[];
  close(): Promise<void>;
}

/** Options of {@link serveBinaryCache}. */
export interface ServeOptions {
  /** Wait this long before answering a `/nar/…` request, so concurrent fetches overlap. */
  narDelayMs?: number;
  /** Listen address; another loopback address (127.0.0.2) is another host to netrc. */
  host?: string;
  /** Serve the cache under this path (`/cache/acme`), as the hub serves an owner's cache. */
  prefix?: string;
  /** Listen on this port (a cache "back" at its old address after {@link dieAtFirstRequest}). */
  port?: number;
  /**
   * Die at the first request, as a hub process stopped mid-start: that request's connection is cut
   * and the port stops listening, so every later connection is refused.
   */
  dieAtFirstRequest?: boolean;
}

/**
 * Serves `cacheDir` (as written by `nix copy --to file://…`) over HTTP on 127.0.0.1 and a random
 * port, counting requests so a test can assert how often each nar was downloaded.
 *
 * @example
 * const cache = await serveBinaryCache(fixtures.cacheDir, { narDelayMs: 300 });
 * try { … } finally { await cache.close(); }
 */
export async function serveBinaryCache(
  cacheDir: string,
  opts: ServeOptions = {},
): Promise<BinaryCacheServer> {
  const requests = new Map<string, number>();
  const authorizations: string[] = [];
  const prefix = (opts.prefix ?? "").replace(/\/+$/, "");
  const server = createServer((req, res) => {
    const full = new URL(req.url ?? "/", "http://cache").pathname;
    if (req.headers.authorization !== undefined) authorizations.push(req.headers.authorization);
    if (!full.startsWith(`${prefix}/`)) {
      res.writeHead(404).end();
      return;
    }
    const path = full.slice(prefix.length);
    requests.set(path, (requests.get(path) ?? 0) + 1);
    if (opts.dieAtFirstRequest === true) {
      server.close();
      req.socket.destroy();
      server.closeAllConnections();
      return;
    }
    const file = normalize(join(cacheDir, path));
    const delay = path.startsWith("/nar/") ? (opts.narDelayMs ?? 0) : 0;
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405).end();
      return;
    }
    if (!file.startsWith(normalize(cacheDir))) {
      res.writeHead(403).end();
      return;
    }
    setTimeout(() => {
      readFile(file).then(
        (body) => {
          const type = path.endsWith(".narinfo") ? "text/x-nix-narinfo" : "application/octet-stream";
          res.writeHead(200, { "content-type": type, "content-length": body.length });
          res.end(req.method === "HEAD" ? undefined : body);
        },
        () => res.writeHead(404, { "content-type": "text/plain" }).end("not found\n"),
      );
    }, delay);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string")
    throw new Error("binary cache server has no TCP address");
  const { port } = address;
  return {
    url: `http://${opts.host ?? "127.0.0.1"}:${port}${prefix}`,
    requests,
    authorizations,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        if (!server.listening) resolve();
        else server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
