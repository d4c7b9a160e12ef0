import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { manifestFromObject } from "./manifest.js";
import { serviceNames, servicesWarning } from "./services.js";

describe("serviceNames()", () => {
  const cases: [string, object, string[]][] = [
    ["no [services]", {}, []],
    ["each service, sorted", { services: { web: { command: "w" }, db: { command: "d" } } }, ["db", "web"]],
    ["not auto-start", { services: { "auto-start": true, web: { command: "w" } } }, ["web"]],
  ];
  for (const [name, manifest, expected] of cases) {
    it(`serviceNames() finds ${name}`, () => {
      assert.deepEqual(serviceNames(manifestFromObject({ version: 1, ...manifest }, "m")), expected);
    });
  }
  it("servicesWarning() names the services in one line", () => {
    assert.equal(
      servicesWarning(["db", "web"]),
      "imageless: warning: [services] are not supported: not started: db, web; the command runs without them",
    );
  });
});
