import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import fastify from "fastify";
import { ImagelessError } from "../../errors/imageless-error.js";
import { nullLogger } from "../../log/logger.js";
import type { HubServices } from "../access.js";
import { registerCacheRoutes } from "./cache-service.js";

/** One machine token (`org-token` of "acme") without write access; every other token is unknown. */
function services(dataDir: string): HubServices {
  return {
    dataDir,
    access: {
      identify: async (header) => {
        if (header === undefined) return undefined;
        if (header === "Bearer reader") return { kind: "org-token", name: "acme", admin: false };
        throw new ImagelessError("unauthorized", "the token is not known to this hub");
      },
      environmentAccess: async () => "none",
      ownerAccess: async () => "read",
    },
    environments: { recordPush: async () => {}, list: async () => [] },
  };
}

describe("registerCacheRoutes()", () => {
  let dir: string;
  const app = fastify();
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "cache-service-"));
    registerCacheRoutes(app, services(dir), nullLogger);
    await app.ready();
  });
  after(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  const cases: [string, string, Record<string, string>, number, RegExp][] = [
    [
      "PUT",
      `/cache/acme/nar/${"1".repeat(52)}.nar.zst`,
      {},
      401,
      /^uploading to acme's cache needs a token\n$/,
    ],
    [
      "PUT",
      `/cache/acme/nar/${"1".repeat(52)}.nar.zst`,
      { authorization: "Bearer nope" },
      401,
      /not known to this hub/,
    ],
    [
      "PUT",
      `/cache/acme/${"0".repeat(32)}.narinfo`,
      { authorization: "Bearer reader" },
      403,
      /^'acme' may not upload to acme's cache: it needs write access to acme\n$/,
    ],
    [
      "GET",
      `/cache/acme/${"0".repeat(32)}.narinfo`,
      { authorization: "Bearer nope" },
      401,
      /not known to this hub/,
    ],
    ["GET", `/cache/acme/${"0".repeat(32)}.narinfo`, {}, 404, /^not found\n$/],
    [
      "GET",
      `/cache/${"0".repeat(32)}.narinfo`,
      {},
      404,
      /^this hub's cache is per owner: use <hub>\/cache\/<owner>/,
    ],
    ["PUT", `/cache/nar/${"1".repeat(52)}.nar.zst`, {}, 404, /^this hub's cache is per owner/],
    ["GET", "/cache/acme/nar/../signing-key", {}, 404, /./],
    ["GET", "/cache/acme/signing-key", {}, 404, /^not found\n$/],
    ["GET", "/cache/ACME/nix-cache-info", {}, 404, /^not found\n$/],
    ["PUT", `/cache/-x/${"0".repeat(32)}.narinfo`, {}, 400, /^cache namespace "-x" is not an owner name\n$/],
  ];
  for (const [method, url, headers, status, body] of cases) {
    it(`registerCacheRoutes() answers ${method} ${url.slice(0, 30)}… ${Object.keys(headers).length > 0 ? "with a token " : ""}with ${status}`, async () => {
      const res = await app.inject({
        method: method as "GET" | "PUT",
        url,
        headers,
        ...(method === "PUT" ? { payload: "x" } : {}),
      });
      assert.equal(res.statusCode, status, res.body);
      assert.match(res.body, body);
      if (status === 401) assert.match(String(res.headers["www-authenticate"]), /^Basic /);
    });
  }
});
