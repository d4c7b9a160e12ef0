import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseNodeConfig } from "../config.js";
import { renderDefaultNodeConfig } from "./default-node-config.js";

describe("renderDefaultNodeConfig()", () => {
  it("spells out the defaults: parsing it strictly gives exactly the built-in defaults", () => {
    const parsed = parseNodeConfig(renderDefaultNodeConfig(), "written", { strict: true });
    assert.deepEqual(parsed, parseNodeConfig("", "defaults"));
  });
  it("trusts cache.nixos.org and cache.flox.dev with their published keys", () => {
    const text = renderDefaultNodeConfig();
    assert.match(
      text,
      /\nsubstituters = \[\n {2}"https:\/\/cache\.nixos\.org",\n {2}"https:\/\/cache\.flox\.dev",\n\]\n/,
    );
    assert.match(
      text,
      /\ntrusted-public-keys = \[\n {2}"cache\.nixos\.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY=",\n {2}"flox-cache-public-1:7F4OyH7ZCnFhcze3fJdfyXYLQw\/aV7GEed86nQ7IsOs=",\n\]\n/,
    );
  });
});
