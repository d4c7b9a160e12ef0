import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ImagelessError } from "../../errors/imageless-error.js";
import { ForbiddenError } from "../accounts/forbidden-error.js";
import { errorReply } from "./http-errors.js";

describe("errorReply()", () => {
  const cases: [string, unknown, number, string][] = [
    ["invalid input", new ImagelessError("invalid-input", "bad"), 400, "bad"],
    ["no or a bad token", new ImagelessError("unauthorized", "expired"), 401, "expired"],
    ["a signed-in caller without the right", new ForbiddenError("no"), 403, "no"],
    ["a missing thing", new ImagelessError("not-found", "gone"), 404, "gone"],
    ["a state conflict", new ImagelessError("failed-precondition", "live"), 409, "live"],
    [
      "fastify's own 4xx",
      Object.assign(new Error("Body is not valid JSON\nat …"), { statusCode: 400 }),
      400,
      "request not accepted: Body is not valid JSON",
    ],
    [
      "an unexpected error, without its text",
      new Error("secret detail"),
      500,
      "internal error: see the hub's log",
    ],
  ];
  for (const [name, error, status, message] of cases) {
    it(`errorReply() maps ${name} to ${status}`, () =>
      assert.deepEqual(errorReply(error), { status, body: { error: message } }));
  }
});
