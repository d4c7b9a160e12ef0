import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type ActivationInput, computeActivation } from "../environment/activation.js";
import type { StorePath } from "../nix/store-path.js";
import { applyModifiers, type OciMount, type OciSpec } from "../oci/spec.js";
import { type SpecEditInputs, specEdits } from "./spec-edits.js";

const PROFILE = `/nix/store/${"p".repeat(32)}-flox-env-run` as StorePath;
const BASH = `/nix/store/${"b".repeat(32)}-bash-5.2p37`;
const LIB = `/nix/store/${"l".repeat(32)}-glibc-2.40` as StorePath;

const pod: OciSpec = {
  ociVersion: "1.0.2-dev",
  process: { args: ["app", "--serve"], env: ["PATH=/bin"], cwd: "/srv", user: { uid: 1000, gid: 100 } },
  root: { path: "rootfs" },
  mounts: [{ destination: "/proc", type: "proc", source: "proc" }],
  annotations: { "io.kubernetes.cri.container-name": "app", "flox.dev/environment": "acme/web" },
  linux: { namespaces: [{ type: "pid" }] },
};

const store: SpecEditInputs = {
  containerId: "c1",
  stateDir: "/var/lib/imageless",
  storeRoot: "/srv/node-store",
  storeMount: { kind: "store" },
  nixMutable: false,
  envCache: "/var/lib/imageless/env-cache/c1",
  env: ["PATH=/nix/store/p-env/bin:/bin", "FLOX_ENV=/nix/store/p-env"],
  args: ["app", "--serve"],
  generation: 4,
  storePath: PROFILE,
};

const nixBind: OciMount = {
  destination: "/nix",
  type: "bind",
  source: "/srv/node-store/nix",
  options: ["rbind", "ro", "nosuid", "nodev"],
};
const envCacheBind: OciMount = {
  destination: "/var/cache/flox",
  type: "bind",
  source: "/var/lib/imageless/env-cache/c1",
  options: ["rbind", "rw", "nosuid", "nodev"],
};
const overlayOptions = (lower: string) => [
  `lowerdir=${lower}`,
  "upperdir=/var/lib/imageless/overlay/c1/upper",
  "workdir=/var/lib/imageless/overlay/c1/work",
  "nosuid",
  "nodev",
];
const closureBinds: OciMount[] = [LIB, PROFILE].map((path) => ({
  destination: path,
  type: "bind",
  source: `/srv/node-store${path}`,
  options: ["bind", "ro", "nosuid", "nodev"],
}));

/** The pod's spec as a Flox container runs it: `/nix` as given, the rest as every start edits it. */
function flox(nix: readonly OciMount[], process: { args: string[]; env?: readonly string[] }): OciSpec {
  return {
    ociVersion: "1.0.2-dev",
    process: {
      args: process.args,
      env: [...(process.env ?? store.env)],
      cwd: "/srv",
      user: { uid: 1000, gid: 100 },
    },
    root: { path: "rootfs" },
    mounts: [{ destination: "/proc", type: "proc", source: "proc" }, ...nix, envCacheBind],
    annotations: {
      "io.kubernetes.cri.container-name": "app",
      "flox.dev/environment": "acme/web",
      "flox.dev/resolved-generation": "4",
      "flox.dev/resolved-store-path": PROFILE,
    },
    linux: { namespaces: [{ type: "pid" }] },
  };
}

// An environment activated in run and in dev mode: the mode changes the activated variables only.
const activation: ActivationInput = {
  floxEnv: PROFILE,
  owner: "acme",
  name: "web",
  generation: 4,
  pinned: false,
  mode: "run",
  floxhubUrl: "https://hub.flox.dev",
  vars: {},
  envCache: "/var/cache/flox",
  disableMetrics: false,
  devLayout: { pythonSitePackages: [], jupyter: false, java: false, rustSrc: false },
  defaults: {},
};
const runEnv = computeActivation(activation, ["PATH=/bin"], "/srv").env;
const devEnv = computeActivation({ ...activation, mode: "dev" }, ["PATH=/bin"], "/srv").env;

const cases: [string, SpecEditInputs, OciSpec][] = [
  [
    "whole store, read-only, no shell: /nix bound read-only, env set, the command as it was",
    store,
    flox([nixBind], { args: ["app", "--serve"] }),
  ],
  [
    "whole store, mutable /nix: an overlay with the container's private layers",
    { ...store, nixMutable: true },
    flox(
      [
        {
          destination: "/nix",
          type: "overlay",
          source: "overlay",
          options: overlayOptions("/srv/node-store/nix"),
        },
      ],
      {
        args: ["app", "--serve"],
      },
    ),
  ],
  [
    "closure only: the skeleton read-only at /nix, each closure path bound over it (sorted)",
    {
      ...store,
      storeMount: { kind: "closure", skeleton: "/var/lib/imageless/closure-root/c1", paths: [PROFILE, LIB] },
    },
    flox(
      [
        {
          destination: "/nix",
          type: "bind",
          source: "/var/lib/imageless/closure-root/c1",
          options: ["rbind", "ro", "nosuid", "nodev"],
        },
        ...closureBinds,
      ],
      { args: ["app", "--serve"] },
    ),
  ],
  [
    "closure only, mutable /nix: an overlay on the skeleton, the paths still read-only binds",
    {
      ...store,
      nixMutable: true,
      storeMount: { kind: "closure", skeleton: "/var/lib/imageless/closure-root/c1", paths: [PROFILE, LIB] },
    },
    flox(
      [
        {
          destination: "/nix",
          type: "overlay",
          source: "overlay",
          options: overlayOptions("/var/lib/imageless/closure-root/c1"),
        },
        ...closureBinds,
      ],
      { args: ["app", "--serve"] },
    ),
  ],
  [
    "with a shell (hook): the command runs through the activation script, which records at start",
    {
      ...store,
      shell: { bash: `${BASH}/bin/bash`, script: `${PROFILE}/activate.d/imageless-activate.bash` },
    },
    flox([nixBind], {
      args: [
        `${BASH}/bin/bash`,
        "--noprofile",
        "--norc",
        `${PROFILE}/activate.d/imageless-activate.bash`,
        "start",
        "/var/cache/flox/.imageless/activation",
        "app",
        "--serve",
      ],
    }),
  ],
  [
    "with a shell and a record path of its own: that path is passed",
    {
      ...store,
      shell: {
        bash: `${BASH}/bin/bash`,
        script: `${PROFILE}/activate.d/x.bash`,
        record: "/var/cache/flox/r",
      },
    },
    flox([nixBind], {
      args: [
        `${BASH}/bin/bash`,
        "--noprofile",
        "--norc",
        `${PROFILE}/activate.d/x.bash`,
        "start",
        "/var/cache/flox/r",
        "app",
        "--serve",
      ],
    }),
  ],
  [
    "run mode: the run-mode activated environment",
    { ...store, env: runEnv },
    flox([nixBind], { args: ["app", "--serve"], env: runEnv }),
  ],
  [
    "dev mode: the dev-mode activated environment, and nothing else differs from run",
    { ...store, env: devEnv },
    flox([nixBind], { args: ["app", "--serve"], env: devEnv }),
  ],
  [
    "annotations record the generation and the profile (a retried create runs the spec as it is)",
    { ...store, generation: 12, storePath: LIB },
    {
      ...flox([nixBind], { args: ["app", "--serve"] }),
      annotations: {
        "io.kubernetes.cri.container-name": "app",
        "flox.dev/environment": "acme/web",
        "flox.dev/resolved-generation": "12",
        "flox.dev/resolved-store-path": LIB,
      },
    },
  ],
];

describe("specEdits()", () => {
  for (const [name, inputs, expected] of cases) {
    it(name, () => {
      const before = structuredClone(pod);
      const once = applyModifiers(pod, specEdits(inputs));
      assert.deepEqual(once, expected);
      assert.deepEqual(pod, before, "the pod's spec is not mutated");
      assert.deepEqual(applyModifiers(once, specEdits(inputs)), once, "applied twice equals applied once");
    });
  }

  it("dev and run differ in the process environment only", () => {
    assert.notDeepEqual(devEnv, runEnv);
    const run = applyModifiers(pod, specEdits({ ...store, env: runEnv }));
    const dev = applyModifiers(pod, specEdits({ ...store, env: devEnv }));
    assert.deepEqual(
      { ...dev, process: { ...dev.process, env: [] } },
      { ...run, process: { ...run.process, env: [] } },
    );
  });
});
