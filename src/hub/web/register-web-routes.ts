import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";

/** One file of the web UI as served. */
interface Asset {
  readonly path: string;
  readonly file: string;
  readonly type: string;
}

/** The UI's files and where they are served: the page at `/`, its modules and style under `/web/`. */
export const WEB_ASSETS: readonly Asset[] = [
  { path: "/", file: "index.html", type: "text/html; charset=utf-8" },
  { path: "/web/app.js", file: "app.js", type: "text/javascript; charset=utf-8" },
  { path: "/web/app.css", file: "app.css", type: "text/css; charset=utf-8" },
  ...["api.js", "dom.js", "list-page.js", "env-page.js", "diff-page.js", "org-page.js"].map((file) => ({
    path: `/web/${file}`,
    file,
    type: "text/javascript; charset=utf-8",
  })),
];

// The page runs only its own script and talks only to this hub; values are put in as text. A token in
// localStorage is readable by any script on the origin, so no third-party script may ever load here.
const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
};

/**
 * Serves the hub's web UI (static HTML, CSS and vanilla JS calling `/api/v1` with the Bearer token a
 * person signs in with). The files are read once, here; a missing file fails the hub's start.
 *
 * @example
 * const app = Fastify();
 * registerWebRoutes(app);
 */
export function registerWebRoutes(app: FastifyInstance): void {
  const dir = staticDir(dirname(fileURLToPath(import.meta.url)));
  for (const asset of WEB_ASSETS) {
    const body = readFileSync(join(dir, asset.file));
    app.get(asset.path, async (_request, reply) => {
      return reply.headers({ ...SECURITY_HEADERS, "content-type": asset.type }).send(body);
    });
  }
}

/**
 * Where the static files are: beside this module when they were copied next to the build, else in
 * the source tree (`tsc` emits only `.js` into `dist/src/hub/web`, so a checkout serves them from
 * `src/hub/web/static`).
 */
export function staticDir(moduleDir: string): string {
  const beside = join(moduleDir, "static");
  if (existsSync(join(beside, "index.html"))) return beside;
  for (let dir = moduleDir; dirname(dir) !== dir; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return join(dir, "src", "hub", "web", "static");
  }
  return beside;
}
