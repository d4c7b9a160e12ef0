import assert from "node:assert/strict";
import { describe, it } from "node:test";
import Fastify from "fastify";
import { registerWebRoutes, WEB_ASSETS } from "./register-web-routes.js";

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
});
