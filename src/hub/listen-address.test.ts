import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseListen } from "./listen-address.js";

describe("parseListen()", () => {
  const accepted: [string, { host: string; port: number }][] = [
    ["127.0.0.1:7878", { host: "127.0.0.1", port: 7878 }],
    ["0.0.0.0:0", { host: "0.0.0.0", port: 0 }],
    ["[::1]:80", { host: "::1", port: 80 }],
    ["hub.internal:443", { host: "hub.internal", port: 443 }],
  ];
  for (const [value, expected] of accepted) {
    it(`parseListen() accepts ${value}`, () => assert.deepEqual(parseListen(value), expected));
  }
  for (const value of ["7878", "host:", "host:70000", "::1:80", "a b:1"]) {
    it(`parseListen() refuses ${JSON.stringify(value)}`, () =>
      assert.throws(() => parseListen(value), /is not accepted: use host:port/));
  }
});
