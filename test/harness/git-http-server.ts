import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { handleGitHttp } from "../../src/hub/git/git-http-backend.js";

/** A running git smart-HTTP server for tests. */
export interface GitHttpServer {
  /** `http://127.0.0.1:<port>/git`, the git base URL. */
  readonly url: string;
  /** How many HTTP requests it has answered (to check that a resolve did or did not fetch). */
  requests(): number;
  close(): Promise<void>;
}

/**
 * Serves the bare repositories under `projectRoot` at `/git/…` with the real `git http-backend`,
 * read-only. With `requireToken`, every request needs `Authorization: Basic base64(oauth:<token>)`
 * and gets 401 with a Basic challenge otherwise, as FloxHub does for private environments.
 */
export async function serveGit(
  projectRoot: string,
  opts: { requireToken?: string } = {},
): Promise<GitHttpServer> {
  let count = 0;
  const expected =
    opts.requireToken === undefined
      ? undefined
      : `Basic ${Buffer.from(`oauth:${opts.requireToken}`).toString("base64")}`;
  const server = createServer((req, res) => {
    count++;
    const path = (req.url ?? "").split("?")[0] ?? "";
    if (!path.startsWith("/git/")) {
      res.writeHead(404).end();
      return;
    }
    if (expected !== undefined && req.headers.authorization !== expected) {
      req.resume();
      res.writeHead(401, { "WWW-Authenticate": 'Basic realm="floxhub"' }).end("unauthorized\n");
      return;
    }
    void handleGitHttp(req, res, { projectRoot, pathInfo: path.slice("/git".length), allowPush: false });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/git`,
    requests: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
