import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ImagelessError } from "../errors/imageless-error.js";
import { type ActivateMode, parseEnvironmentRef, parsePodPolicy, resolveActivateMode } from "./policy.js";

const container = (name: string, extra: Record<string, string> = {}): Record<string, string> => ({
  "io.kubernetes.cri.container-type": "container",
  "io.kubernetes.cri.container-name": name,
  ...extra,
});

describe("parsePodPolicy()", () => {
  it("leaves the sandbox unmodified even when it carries flox annotations", () => {
    const policy = parsePodPolicy({
      "io.kubernetes.cri.container-type": "sandbox",
      "flox.dev/environment": "acme/web",
      "flox.dev/nix-mutable": "garbage",
    });
    assert.deepEqual(policy, { kind: "unmodified", reason: "sandbox" });
  });

  it("leaves a container without flox.dev/environment unmodified", () => {
    assert.deepEqual(parsePodPolicy(container("app")), { kind: "unmodified", reason: "no-environment" });
  });

  it("applies defaults: no mode (the manifest decides), read-only /nix, metrics on", () => {
    assert.deepEqual(parsePodPolicy(container("app", { "flox.dev/environment": "acme/web" })), {
      kind: "flox",
      containerName: "app",
      ref: { owner: "acme", name: "web" },
      nixMutable: false,
      disableMetrics: false,
      skipExec: false,
    });
  });

  const booleans: [string, boolean][] = [
    ["true", true],
    ["TRUE", true],
    [" True ", true],
    ["false", false],
    ["False", false],
  ];
  for (const [value, expected] of booleans) {
    it(`reads boolean ${JSON.stringify(value)} as ${expected}`, () => {
      const policy = parsePodPolicy(
        container("app", {
          "flox.dev/environment": "acme/web",
          "flox.dev/nix-mutable": value,
          "flox.dev/disable-metrics": value,
        }),
      );
      assert.equal(policy.kind, "flox");
      if (policy.kind !== "flox") return;
      assert.equal(policy.nixMutable, expected);
      assert.equal(policy.disableMetrics, expected);
    });
  }

  const invalid: [string, string, RegExp][] = [
    [
      "flox.dev/nix-mutable",
      "yes",
      /annotation flox.dev\/nix-mutable: cannot use "yes": accepted values are "true" and "false"/,
    ],
    ["flox.dev/disable-metrics", "1", /annotation flox.dev\/disable-metrics: cannot use "1"/],
    [
      "flox.dev/activate-mode",
      "prod",
      /annotation flox.dev\/activate-mode: cannot use "prod": accepted values are "run" and "dev"/,
    ],
  ];
  for (const [annotation, value, message] of invalid) {
    it(`rejects ${annotation}=${JSON.stringify(value)} naming annotation, value and accepted values`, () => {
      assert.throws(
        () => parsePodPolicy(container("app", { "flox.dev/environment": "acme/web", [annotation]: value })),
        (error: unknown) =>
          error instanceof ImagelessError && error.kind === "invalid-input" && message.test(error.message),
      );
    });
  }

  it("reads dev mode case-insensitively", () => {
    const policy = parsePodPolicy(
      container("app", { "flox.dev/environment": "a/b", "flox.dev/activate-mode": " DEV " }),
    );
    assert.equal(policy.kind === "flox" && policy.mode, "dev");
  });

  it("leaves containers named in skip-containers unmodified, trimming spaces and ignoring empty items", () => {
    const annotations = { "flox.dev/environment": "a/b", "flox.dev/skip-containers": " init-db , ,sidecar," };
    assert.deepEqual(parsePodPolicy(container("sidecar", annotations)), {
      kind: "unmodified",
      reason: "skipped",
    });
    assert.deepEqual(parsePodPolicy(container("init-db", annotations)), {
      kind: "unmodified",
      reason: "skipped",
    });
    assert.equal(parsePodPolicy(container("app", annotations)).kind, "flox");
  });

  it("marks skip-containers-exec containers, and treats a name in both lists as skipped", () => {
    const annotations = {
      "flox.dev/environment": "a/b",
      "flox.dev/skip-containers": "both",
      "flox.dev/skip-containers-exec": "app, both",
    };
    const app = parsePodPolicy(container("app", annotations));
    assert.equal(app.kind === "flox" && app.skipExec, true);
    assert.deepEqual(parsePodPolicy(container("both", annotations)), {
      kind: "unmodified",
      reason: "skipped",
    });
  });
});

describe("parseEnvironmentRef()", () => {
  const valid: [string, object][] = [
    ["acme/web", { owner: "acme", name: "web" }],
    ["acme/web:1", { owner: "acme", name: "web", generation: 1 }],
    ["my-org/my_env.v2:42", { owner: "my-org", name: "my_env.v2", generation: 42 }],
    [" acme/web ", { owner: "acme", name: "web" }],
  ];
  for (const [value, expected] of valid) {
    it(`parses ${JSON.stringify(value)}`, () => assert.deepEqual(parseEnvironmentRef(value), expected));
  }

  const invalid = [
    "no-slash",
    "a/b:0",
    "a/b:x",
    "a/b:",
    "a/b:01",
    "a/b:-1",
    "/b",
    "a/",
    "a/b/c",
    "a/b:1.5",
    "",
  ];
  for (const value of invalid) {
    it(`rejects ${JSON.stringify(value)} naming the annotation and the value`, () => {
      assert.throws(
        () => parseEnvironmentRef(value),
        (error: unknown) =>
          error instanceof ImagelessError &&
          error.kind === "invalid-input" &&
          error.message.startsWith(`annotation flox.dev/environment: cannot use ${JSON.stringify(value)}:`) &&
          error.message.includes('accepted: "owner/name" or "owner/name:N"') &&
          !error.message.includes("\n"),
      );
    });
  }
  // The name rule itself, its edges and its property tests: src/names/environment-names.test.ts.
});

describe("resolveActivateMode()", () => {
  const cases: [ActivateMode | undefined, ActivateMode | undefined, ActivateMode][] = [
    [undefined, undefined, "run"],
    [undefined, "dev", "dev"],
    [undefined, "run", "run"],
    ["run", "dev", "run"],
    ["dev", "run", "dev"],
    ["dev", undefined, "dev"],
  ];
  for (const [annotation, manifest, expected] of cases) {
    it(`resolveActivateMode() gives ${expected} for annotation ${annotation ?? "none"} and manifest ${manifest ?? "none"}`, () => {
      assert.equal(resolveActivateMode(annotation, manifest), expected);
    });
  }
});
