import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ImagelessError } from "../../errors/imageless-error.js";
import { applyModifiers, type OciSpec, type SpecModifier } from "../spec.js";
import { activateProcess } from "./activate-process.js";
import { mountEnvCache } from "./env-cache.js";
import { mountClosure } from "./mount-closure.js";
import { mountStore } from "./mount-store.js";
import { mountStoreOverlay } from "./mount-store-overlay.js";
import { addAnnotations } from "./record-resolution.js";

const base: OciSpec = {
  ociVersion: "1.0.2-dev",
  process: { args: ["hello"], env: ["PATH=/bin"], cwd: "/", user: { uid: 0, gid: 0 } },
  root: { path: "rootfs" },
  mounts: [{ destination: "/proc", type: "proc", source: "proc" }],
  annotations: { "io.kubernetes.cri.container-name": "app" },
  linux: { namespaces: [{ type: "pid" }], seccomp: { defaultAction: "SCMP_ACT_ERRNO" } },
  unknownField: { kept: true },
};

const cases: [string, SpecModifier, (spec: OciSpec) => void][] = [
  [
    "mountStore adds a read-only rbind of the node store at /nix",
    mountStore("/tmp/store/nix"),
    (spec) =>
      assert.deepEqual(spec.mounts?.at(-1), {
        destination: "/nix",
        type: "bind",
        source: "/tmp/store/nix",
        options: ["rbind", "ro", "nosuid", "nodev"],
      }),
  ],
  [
    "mountStoreOverlay mounts /nix as an overlay with the node store as lower layer",
    mountStoreOverlay({ lower: "/s/nix", upper: "/st/overlay/c1/upper", work: "/st/overlay/c1/work" }),
    (spec) =>
      assert.deepEqual(spec.mounts?.at(-1), {
        destination: "/nix",
        type: "overlay",
        source: "overlay",
        options: [
          "lowerdir=/s/nix",
          "upperdir=/st/overlay/c1/upper",
          "workdir=/st/overlay/c1/work",
          "nosuid",
          "nodev",
        ],
      }),
  ],
  [
    "mountStoreOverlay replaces a read-only /nix bind (one /nix mount)",
    (spec) =>
      applyModifiers(spec, [
        mountStore("/s/nix"),
        mountStoreOverlay({ lower: "/s/nix", upper: "/u", work: "/w" }),
      ]),
    (spec) => {
      const nix = spec.mounts?.filter((m) => m.destination === "/nix") ?? [];
      assert.equal(nix.length, 1);
      assert.equal(nix[0]?.type, "overlay");
    },
  ],
  [
    "mountStore replaces an overlay /nix (one /nix mount)",
    (spec) =>
      applyModifiers(spec, [
        mountStoreOverlay({ lower: "/s/nix", upper: "/u", work: "/w" }),
        mountStore("/s/nix"),
      ]),
    (spec) => {
      const nix = spec.mounts?.filter((m) => m.destination === "/nix") ?? [];
      assert.deepEqual(
        nix.map((m) => m.type),
        ["bind"],
      );
    },
  ],
  [
    "mountClosure mounts the skeleton read-only at /nix and binds each closure path over it",
    mountClosure({
      skeleton: "/st/closure-root/c1",
      paths: ["/nix/store/b-two", "/nix/store/a-one"],
      hostPath: (path) => `/s${path}`,
    }),
    (spec) =>
      assert.deepEqual(spec.mounts?.slice(1), [
        {
          destination: "/nix",
          type: "bind",
          source: "/st/closure-root/c1",
          options: ["rbind", "ro", "nosuid", "nodev"],
        },
        {
          destination: "/nix/store/a-one",
          type: "bind",
          source: "/s/nix/store/a-one",
          options: ["bind", "ro", "nosuid", "nodev"],
        },
        {
          destination: "/nix/store/b-two",
          type: "bind",
          source: "/s/nix/store/b-two",
          options: ["bind", "ro", "nosuid", "nodev"],
        },
      ]),
  ],
  [
    "mountClosure with an overlay makes /nix writable on the skeleton, the paths still read-only binds",
    mountClosure({
      skeleton: "/k",
      paths: ["/nix/store/a-one"],
      hostPath: (path) => path,
      overlay: { upper: "/u", work: "/w" },
    }),
    (spec) =>
      assert.deepEqual(
        spec.mounts?.slice(1).map((m) => [m.destination, m.type, m.options?.[0]]),
        [
          ["/nix", "overlay", "lowerdir=/k"],
          ["/nix/store/a-one", "bind", "bind"],
        ],
      ),
  ],
  [
    "mountEnvCache adds a writable bind at /var/cache/flox",
    mountEnvCache("/var/lib/imageless/cache/c1"),
    (spec) => assert.deepEqual(spec.mounts?.at(-1)?.options, ["rbind", "rw", "nosuid", "nodev"]),
  ],
  [
    "activateProcess sets env and args, keeping cwd and user",
    activateProcess(["PATH=/nix/store/x/bin:/bin"], ["bash", "-c", "x"]),
    (spec) => {
      assert.deepEqual(spec.process?.env, ["PATH=/nix/store/x/bin:/bin"]);
      assert.deepEqual(spec.process?.args, ["bash", "-c", "x"]);
      assert.deepEqual(spec.process?.user, { uid: 0, gid: 0 });
    },
  ],
  [
    "activateProcess without args keeps the container's args",
    activateProcess(["A=1"]),
    (spec) => assert.deepEqual(spec.process?.args, ["hello"]),
  ],
  [
    "addAnnotations merges into the existing annotations",
    addAnnotations({ "flox.dev/resolved-generation": "2" }),
    (spec) =>
      assert.deepEqual(spec.annotations, {
        "io.kubernetes.cri.container-name": "app",
        "flox.dev/resolved-generation": "2",
      }),
  ],
];

describe("spec modifiers", () => {
  for (const [name, modifier, check] of cases) {
    it(name, () => {
      const before = structuredClone(base);
      const once = applyModifiers(base, [modifier]);
      check(once);
      assert.deepEqual(base, before, "the input spec is not mutated");
      assert.deepEqual(applyModifiers(once, [modifier]), once, "applied twice equals applied once");
      assert.deepEqual(once.linux, base.linux, "fields the modifier does not own are kept");
      assert.deepEqual(once.unknownField, { kept: true });
      assert.deepEqual(once.mounts?.[0], base.mounts?.[0]);
    });
  }
});

describe("mountStoreOverlay()", () => {
  for (const bad of ["/a,b/upper", "/a:b/upper"]) {
    it(`mountStoreOverlay() rejects a directory overlayfs options cannot hold: ${bad}`, () => {
      assert.throws(
        () => mountStoreOverlay({ lower: "/nix", upper: bad, work: "/w" }),
        (error: unknown) =>
          error instanceof ImagelessError && error.kind === "invalid-input" && error.message.includes(bad),
      );
    });
  }
});
