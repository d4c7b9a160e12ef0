import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import fastify from "fastify";
import { ImagelessError } from "../../errors/imageless-error.js";
import { nullLogger } from "../../log/logger.js";
import type { HubServices } from "../access.js";
import { registerGitRoutes } from "./git-service.js";

/** HubServices where every token is refused and every environment is private. */
function closedServices(dataDir: string): HubServices {
  return {
    dataDir,
    access: {
      identify: async (header) => {
        if (header === undefined) return undefined;
        throw new ImagelessError("unauthorized", "the token is not known to this hub");
      },
      environmentAccess: async () => "none",
      ownerAccess: async () => "none",
    },
    environments: { recordPush: async () => {}, list: async () => [] },
  };
}

describe("registerGitRoutes()", () => {
  let dir: string;
  const app = fastify();
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "git-service-"));
    registerGitRoutes(app, closedServices(dir), nullLogger);
    await app.ready();
  });
  after(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("registerGitRoutes() answers dumb-protocol paths with 404", async () => {
    const res = await app.inject({ method: "GET", url: "/git/acme/floxmeta/objects/info/packs" });
    assert.equal(res.statusCode, 404);
  });

  it("registerGitRoutes() challenges an anonymous push with Basic", async () => {
    const res = await app.inject({
      method: "GET",
      url: "/git/acme/floxmeta/info/refs?service=git-receive-pack",
    });
    assert.equal(res.statusCode, 401);
    assert.match(String(res.headers["www-authenticate"]), /^Basic /);
    assert.match(res.body, /pushing to 'acme' needs a token/);
  });

  it("registerGitRoutes() refuses an unknown token with 401 and the access seam's message", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/git/acme/floxmeta/git-upload-pack",
      headers: { authorization: "Bearer nope", "content-type": "application/x-git-upload-pack-request" },
      payload: "0000",
    });
    assert.equal(res.statusCode, 401);
    assert.equal(res.body, "the token is not known to this hub\n");
  });

  it("registerGitRoutes() answers 404 for an owner without a repository", async () => {
    const res = await app.inject({
      method: "GET",
      url: "/git/acme/floxmeta/info/refs?service=git-upload-pack",
    });
    assert.equal(res.statusCode, 404);
  });
});
