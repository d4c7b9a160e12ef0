import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ContainerPolicy } from "../pod/policy.js";
import { buildStartEvent, isDisabledByEnvironment, shouldRecordStart } from "./event.js";

const policy: Extract<ContainerPolicy, { kind: "flox" }> = {
  kind: "flox",
  containerName: "app",
  ref: { owner: "acme", name: "web" },
  mode: "dev",
  nixMutable: true,
  disableMetrics: false,
  skipExec: false,
};
const stats = {
  live: true,
  cacheHit: false,
  fetched: true,
  resolveMs: 5,
  realiseMs: 6,
  buildMs: 7,
  totalMs: 20,
};

describe("buildStartEvent()", () => {
  it("describes a successful live start with its durations and nothing about the pod", () => {
    const event = buildStartEvent({
      id: "i",
      now: 0,
      version: "9.9.9",
      policy,
      outcome: { result: "ok", generation: 4, stats },
    });
    assert.deepEqual(event, {
      event: "runtime.container_start",
      id: "i",
      time: "1970-01-01T00:00:00.000Z",
      version: "9.9.9",
      environment: "acme/web",
      mode: "dev",
      mutable: true,
      generation: "live",
      result: "ok",
      generationNumber: 4,
      cacheHit: false,
      fetched: true,
      resolveMs: 5,
      realiseMs: 6,
      buildMs: 7,
      totalMs: 20,
    });
  });
  it("describes a failed start whose policy did not parse by its error kind only", () => {
    const event = buildStartEvent({
      id: "i",
      now: 0,
      version: "1",
      outcome: { result: "error", errorKind: "invalid-input", totalMs: 1 },
    });
    assert.deepEqual(Object.keys(event).sort(), [
      "errorKind",
      "event",
      "id",
      "result",
      "time",
      "totalMs",
      "version",
    ]);
  });
  it("says pinned for owner/name:N", () => {
    const pinned = { ...policy, ref: { owner: "acme", name: "web", generation: 2 } };
    assert.equal(
      buildStartEvent({
        id: "i",
        now: 0,
        version: "1",
        policy: pinned,
        outcome: { result: "error", errorKind: "not-found", totalMs: 1 },
      }).generation,
      "pinned",
    );
  });
});

describe("isDisabledByEnvironment()", () => {
  const cases: ReadonlyArray<readonly [string | undefined, boolean]> = [
    [undefined, false],
    ["", false],
    ["false", false],
    ["0", false],
    ["true", true],
    ["1", true],
    ["yes", true],
  ];
  for (const [value, expected] of cases)
    it(`reads ${String(value)} as ${expected}`, () => assert.equal(isDisabledByEnvironment(value), expected));
});

describe("shouldRecordStart()", () => {
  const on = { enabled: true, runtimeEnvDisables: false, annotations: {} };
  const env = { "flox.dev/environment": "a/b" };
  const cases: ReadonlyArray<readonly [string, Parameters<typeof shouldRecordStart>[0], boolean]> = [
    ["a flox start", { ...on, policy }, true],
    ["node config off", { ...on, enabled: false, policy }, false],
    ["FLOX_DISABLE_METRICS", { ...on, runtimeEnvDisables: true, policy }, false],
    ["disable-metrics annotation", { ...on, policy: { ...policy, disableMetrics: true } }, false],
    ["an unmodified container", { ...on, policy: { kind: "unmodified", reason: "skipped" } }, false],
    ["a bad annotation, metrics not disabled", { ...on, annotations: env, policy: undefined }, true],
    [
      "a bad annotation, disable-metrics false",
      { ...on, annotations: { ...env, "flox.dev/disable-metrics": " False " }, policy: undefined },
      true,
    ],
    [
      "a bad annotation, disable-metrics true",
      { ...on, annotations: { ...env, "flox.dev/disable-metrics": "true" }, policy: undefined },
      false,
    ],
    [
      "a bad disable-metrics value",
      { ...on, annotations: { ...env, "flox.dev/disable-metrics": "yes" }, policy: undefined },
      false,
    ],
    [
      "a sandbox",
      { ...on, annotations: { ...env, "io.kubernetes.cri.container-type": "sandbox" }, policy: undefined },
      false,
    ],
  ];
  for (const [label, input, expected] of cases)
    it(`is ${expected} for ${label}`, () => assert.equal(shouldRecordStart(input), expected));
});
