import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import Fastify from "fastify";
import { registerWebRoutes, staticDir, WEB_ASSETS } from "./register-web-routes.js";

describe("registerWebRoutes()", () => {
  it("serves the page, its script and style with their types and a same-origin-only CSP", async () => {
    const app = Fastify({ logger: false });
    registerWebRoutes(app);
    try {
      for (const asset of WEB_ASSETS) {
        const res = await app.inject({ method: "GET", url: asset.path });
        assert.equal(res.statusCode, 200, asset.path);
        assert.equal(res.headers["content-type"], asset.type);
        assert.match(String(res.headers["content-security-policy"]), /script-src 'self'/);
        assert.ok(res.body.length > 100, `${asset.path} has content`);
      }
      const page = await app.inject({ method: "GET", url: "/" });
      assert.match(page.body, /<script type="module" src="\/web\/app\.js">/);
      assert.match(page.body, /Sign in with a token/);
    } finally {
      await app.close();
    }
  });

  it("serves every file of the static folder, so each module the page imports is there", () => {
    const dir = staticDir(dirname(fileURLToPath(import.meta.url)));
    assert.deepEqual(WEB_ASSETS.map((a) => a.file).sort(), readdirSync(dir).sort());
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".js"))) {
      for (const [, imported] of readFileSync(join(dir, file), "utf8").matchAll(/from "\.\/([^"]+)"/g)) {
        assert.ok(
          WEB_ASSETS.some((a) => a.path === `/web/${imported}`),
          `${file} imports ${imported}`,
        );
      }
    }
  });
});
