import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkLiveRuntime, checkToken, formatDoctor } from "./doctor.js";

const WRAPPER = "/opt/imageless/bin/imageless-runc";
const runtime = (flox: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}) => ({
  version: 2,
  ...extra,
  plugins: {
    "io.containerd.grpc.v1.cri": { containerd: { runtimes: { runc: {}, ...(flox ? { flox } : {}) } } },
  },
});
const good = {
  runtime_type: "io.containerd.runc.v2",
  pod_annotations: ["flox.dev/*"],
  container_annotations: ["flox.dev/*"],
  options: { BinaryName: WRAPPER, SystemdCgroup: true },
};

describe("checkLiveRuntime()", () => {
  it("accepts the runtime install writes, in version 2 and version 3 dumps", () => {
    assert.deepEqual(checkLiveRuntime(runtime(good), WRAPPER), {
      name: "containerd: flox runtime",
      ok: true,
      detail: `loaded: BinaryName ${WRAPPER}, annotations flox.dev/*`,
    });
    const v3 = {
      version: 3,
      plugins: { "io.containerd.cri.v1.runtime": { containerd: { runtimes: { flox: good } } } },
    };
    assert.equal(checkLiveRuntime(v3, WRAPPER).ok, true);
  });
  it("says the runtime was lost to a drop-in when the config imports one", () => {
    assert.deepEqual(
      checkLiveRuntime(runtime(undefined, { imports: ["/etc/containerd/conf.d/99-nvidia.toml"] }), WRAPPER),
      {
        name: "containerd: flox runtime",
        ok: false,
        detail:
          'containerd has no "flox" runtime loaded; its config imports ["/etc/containerd/conf.d/99-nvidia.toml"], and in containerd 1.x a drop-in that sets the CRI plugin replaces the whole section',
        fix: "run `imageless node install` (it puts the runtime where it survives drop-ins), then restart containerd",
      },
    );
  });
  it("names each wrong field", () => {
    const bad = {
      runtime_type: "io.containerd.flox.v2",
      pod_annotations: ["*"],
      options: { BinaryName: "/usr/bin/runc" },
    };
    assert.deepEqual(
      checkLiveRuntime(runtime(bad), WRAPPER).detail,
      [
        'runtime_type is "io.containerd.flox.v2", not "io.containerd.runc.v2"',
        'pod_annotations lacks "flox.dev/*"',
        'container_annotations lacks "flox.dev/*"',
        `options.BinaryName is "/usr/bin/runc", not "${WRAPPER}"`,
      ].join("; "),
    );
  });
});

describe("checkToken()", () => {
  const jwt = (exp: number) =>
    `eyJhbGciOiJub25lIn0.${Buffer.from(JSON.stringify({ exp })).toString("base64url")}.sig`;
  it("accepts a readable token and an unexpired JWT; flags missing, empty and expired ones", () => {
    const now = Date.UTC(2026, 0, 1);
    const cases: [string | undefined, boolean, string][] = [
      ["opaque-token\n", true, "/t readable"],
      [jwt(now / 1000 + 3600), true, "/t readable, expires 2026-01-01T01:00:00.000Z"],
      [undefined, false, "/t cannot be read"],
      ["  \n", false, "/t is empty"],
      [jwt(now / 1000 - 60), false, "the token in /t expired at 2025-12-31T23:59:00.000Z"],
    ];
    for (const [text, ok, detail] of cases) {
      const check = checkToken("/t", text, now);
      assert.deepEqual([check.ok, check.detail], [ok, detail]);
      assert.ok(!JSON.stringify(check).includes("opaque-token"), "the token never appears in the report");
    }
  });
});

describe("formatDoctor()", () => {
  it("prints one line per check, the fix under each problem, and a verdict", () => {
    assert.equal(
      formatDoctor([
        { name: "nix", ok: true, detail: "nix-store (Nix) 2.8.0" },
        { name: "floxhub x", ok: false, detail: "not reachable", fix: "check DNS" },
      ]),
      "ok       nix: nix-store (Nix) 2.8.0\nPROBLEM  floxhub x: not reachable\n         fix: check DNS\n1 problem(s)\n",
    );
  });
});
