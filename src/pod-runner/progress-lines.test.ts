import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { progressLine } from "./progress-lines.js";

const redis = "/nix/store/00000000000000000000000000000000-redis-7.0.15";

describe("progressLine()", () => {
  const cases: [string, string, string | undefined][] = [
    [
      "a first start's plan",
      `{"time":"t","level":"info","event":"realise.started","pid":7,"container":"c1","env":"demo/redis","paths":4,"downloadBytes":20971520,"unpackedBytes":83886080}`,
      "demo/redis: fetching 4 paths (20.0 MiB) …",
    ],
    [
      "one path, size rounded to a tenth of a MiB",
      `{"event":"realise.started","env":"acme/hello","paths":1,"downloadBytes":1153434}`,
      "acme/hello: fetching 1 path (1.1 MiB) …",
    ],
    [
      "a plan without a size",
      `{"event":"realise.started","env":"acme/hello","paths":2}`,
      "acme/hello: fetching 2 paths …",
    ],
    [
      "a copied path",
      `{"event":"realise.path","env":"demo/redis","container":"c1","path":"${redis}"}`,
      `  ${redis}`,
    ],
    ["another event", `{"event":"start.prepared","env":"demo/redis","substituted":4}`, undefined],
    ["a started event without a count", `{"event":"realise.started","env":"demo/redis"}`, undefined],
    ["a torn line", `{"event":"realise.path","pa`, undefined],
    ["JSON that is not an object", `["realise.path"]`, undefined],
    ["an empty line", "", undefined],
  ];
  for (const [name, line, expected] of cases) {
    it(`shows ${name} as ${JSON.stringify(expected)}`, () => assert.equal(progressLine(line), expected));
  }
});
