/**
 * The start pipeline (prepareContainer) with every edge in memory: no Nix, no containerd, no node
 * state directory. Each dep records its call, so a test sees what the pipeline touched and in which
 * order; the in-memory node holds the claims, GC roots, records and directories a real one would.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { writeFloxmeta } from "../../test/harness/floxmeta-fixture.js";
import {
  InMemoryHubAccess,
  inMemoryServices,
  startTestHub,
  type TestHub,
} from "../../test/harness/in-memory-hub.js";
import { floxFixturesDir } from "../../test/harness/repo-root.js";
import { makeTempDir, removeTree } from "../../test/harness/temp.js";
import { computeActivation } from "../environment/activation.js";
import { registerGitRoutes } from "../hub/git/git-service.js";
import { createLogger } from "../log/logger.js";
import type { StorePath } from "../nix/store-path.js";
import type { OciSpec } from "../oci/spec.js";
import { type NodeConfig, parseNodeConfig } from "./config.js";
import { type ContainerRecord, statePaths } from "./container-state.js";
import { nodeStartDeps } from "./node-deps.js";
import { type CreateOutcome, prepareContainer, type StartDeps } from "./start.js";

const HELLO = "/nix/store/nm7p8wxflggcwxfzayhysq4z6a1wg373-hello-2.12.3" as StorePath;
const PROFILE = `/nix/store/${"p".repeat(32)}-flox-env-run` as StorePath;
const CACERT = `/nix/store/${"c".repeat(32)}-nss-cacert-3.98` as StorePath;
const DEV_LAYOUT = { pythonSitePackages: [], jupyter: false, java: false, rustSrc: false };

/** What the in-memory node holds after a start: what a real one would have on disk. */
interface MemoryNode {
  /** Every dep called, by name, in order. */
  readonly calls: string[];
  readonly logLines: string[];
  /** Store paths realised, with the owner whose hub cache was asked first. */
  readonly realised: [string | undefined, readonly StorePath[]][];
  readonly claims: Set<string>;
  /** link → store path */
  readonly gcRoots: Map<string, StorePath>;
  readonly records: Map<string, ContainerRecord>;
  /** profile key → profile (the profile cache) */
  readonly profiles: Map<string, StorePath>;
  /** Per-container directories made (env cache; overlay and skeleton are the store mount's). */
  readonly dirs: Set<string>;
}

interface MemoryOptions {
  readonly lockText: string;
  readonly config?: string;
  /** The profile cache already knows this profile for the start's key. */
  readonly cachedProfile?: StorePath;
  /** addGcRoot fails on its n-th call (1-based) with this error. */
  readonly failAddGcRoot?: { readonly call: number; readonly error: Error };
  /** Real edges to use instead of in-memory ones (e.g. the real token and hub). */
  readonly real?: (config: NodeConfig) => Partial<StartDeps>;
}

/** A StartDeps whose edges are in memory, and the node they act on. */
function memoryStartDeps(options: MemoryOptions): { deps: StartDeps; node: MemoryNode } {
  const config = parseNodeConfig(options.config ?? "", "test config").config;
  const node: MemoryNode = {
    calls: [],
    logLines: [],
    realised: [],
    claims: new Set(),
    gcRoots: new Map(),
    records: new Map(),
    profiles: new Map(),
    dirs: new Set(),
  };
  let clock = 1000;
  let gcRootCalls = 0;
  const edges: Omit<StartDeps, "config" | "log" | "system" | "now"> = {
    readToken: async () => undefined,
    resolve: async (ref) => ({
      ref,
      generation: 3,
      live: true,
      commit: "c0ffee",
      lockText: options.lockText,
      fetched: false,
    }),
    realise: async (paths, forEnv) => {
      node.realised.push([forEnv?.owner, paths]);
      return { substituted: paths };
    },
    buildProfile: async () => PROFILE,
    cachedProfile: async (key) => node.profiles.get(key) ?? options.cachedProfile,
    rememberProfile: async (key, path) => {
      node.profiles.set(key, path);
    },
    propagatedInputs: async () => new Map(),
    claim: async (containerId) => {
      node.claims.add(containerId);
    },
    addGcRoot: async (path, link) => {
      gcRootCalls += 1;
      if (options.failAddGcRoot?.call === gcRootCalls) throw options.failAddGcRoot.error;
      node.gcRoots.set(link, path);
    },
    removeGcRoot: async (link) => {
      node.gcRoots.delete(link);
    },
    profileFacts: async () => ({ devLayout: DEV_LAYOUT, defaults: {} }),
    locateBash: async (outputs) => ({ bash: `${outputs[0]}/bin/bash`, source: "environment" }),
    prepareEnvCache: async (dir) => {
      node.dirs.add(dir);
    },
    prepareStoreMount: async (input) => {
      const paths = statePaths(config.runtime.stateDir, input.containerId);
      if (input.nixMutable) node.dirs.add(paths.overlay);
      if (input.mode === "store") return { kind: "store" };
      node.dirs.add(paths.closureRoot);
      return { kind: "closure", skeleton: paths.closureRoot, paths: input.roots };
    },
    saveRecord: async (record) => {
      node.records.set(record.containerId, record);
    },
    dropState: async (containerId) => {
      const paths = statePaths(config.runtime.stateDir, containerId);
      for (const link of [paths.gcRoot, paths.shellGcRoot, paths.cacertGcRoot, paths.localesGcRoot])
        node.gcRoots.delete(link);
      for (const dir of [paths.envCache, paths.overlay, paths.closureRoot]) node.dirs.delete(dir);
      node.records.delete(containerId);
      node.claims.delete(containerId);
    },
    ...options.real?.(config),
  };
  // Every edge records its name when called.
  const recorded = Object.fromEntries(
    Object.entries(edges).map(([name, edge]) => [
      name,
      (...args: unknown[]) => {
        node.calls.push(name);
        return (edge as (...a: unknown[]) => unknown)(...args);
      },
    ]),
  ) as typeof edges;
  const deps: StartDeps = {
    ...recorded,
    config,
    log: createLogger((line) => node.logLines.push(line)),
    system: "x86_64-linux",
    now: () => {
      clock += 10;
      return clock - 10;
    },
  };
  return { deps, node };
}

/** A pod's container naming `acme/web`, as containerd hands it to runc. */
const podSpec: OciSpec = {
  ociVersion: "1.0.2-dev",
  process: { args: ["hello"], env: ["PATH=/bin"], cwd: "/" },
  root: { path: "rootfs" },
  mounts: [{ destination: "/proc", type: "proc", source: "proc" }],
  annotations: {
    "io.kubernetes.cri.container-type": "container",
    "io.kubernetes.cri.container-name": "app",
    "flox.dev/environment": "acme/web",
  },
};

let helloLock: string;
before(async () => {
  helloLock = await readFile(join(floxFixturesDir(), "envs", "hello", "manifest.lock"), "utf8");
});

/** The whole outcome of starting `acme/web` generation 3 (the hello environment) as container c1. */
function helloOutcome(stats: Extract<CreateOutcome, { kind: "flox" }>["stats"]): CreateOutcome {
  const record: ContainerRecord = {
    version: 1,
    containerId: "c1",
    containerName: "app",
    environment: "acme/web",
    generation: 3,
    storePath: PROFILE,
    skipExec: false,
    activation: {
      floxEnv: PROFILE,
      owner: "acme",
      name: "web",
      generation: 3,
      pinned: false,
      mode: "run",
      floxhubUrl: "https://hub.flox.dev",
      vars: {},
      envCache: "/var/cache/flox",
      disableMetrics: false,
      devLayout: DEV_LAYOUT,
      defaults: {},
    },
    nixMutable: false,
    createdAt: new Date(1000).toISOString(),
  };
  return {
    kind: "flox",
    spec: {
      ociVersion: "1.0.2-dev",
      process: {
        args: ["hello"],
        env: computeActivation(record.activation, ["PATH=/bin"], "/").env,
        cwd: "/",
      },
      root: { path: "rootfs" },
      mounts: [
        { destination: "/proc", type: "proc", source: "proc" },
        { destination: "/nix", type: "bind", source: "/nix", options: ["rbind", "ro", "nosuid", "nodev"] },
        {
          destination: "/var/cache/flox",
          type: "bind",
          source: "/var/lib/imageless/env-cache/c1",
          options: ["rbind", "rw", "nosuid", "nodev"],
        },
      ],
      annotations: {
        "io.kubernetes.cri.container-type": "container",
        "io.kubernetes.cri.container-name": "app",
        "flox.dev/environment": "acme/web",
        "flox.dev/resolved-generation": "3",
        "flox.dev/resolved-store-path": PROFILE,
      },
    },
    record,
    policy: {
      kind: "flox",
      containerName: "app",
      ref: { owner: "acme", name: "web" },
      mode: "run",
      nixMutable: false,
      disableMetrics: false,
      skipExec: false,
    },
    stats,
    containerWarnings: [],
  };
}

describe("prepareContainer() with in-memory edges", () => {
  it("starts an environment: the whole spec and record, every edge in pipeline order, the state a delete releases", async () => {
    const { deps, node } = memoryStartDeps({ lockText: helloLock });
    const outcome = await prepareContainer("c1", podSpec, deps);
    assert.deepEqual(
      outcome,
      helloOutcome({
        live: true,
        cacheHit: false,
        profileReused: false,
        fetched: false,
        resolveMs: 10,
        realiseMs: 10,
        buildMs: 10,
        totalMs: 40,
      }),
    );
    assert.deepEqual(node.calls, [
      "readToken",
      "resolve",
      "cachedProfile",
      "realise",
      "buildProfile",
      "claim",
      "addGcRoot",
      "rememberProfile",
      "profileFacts",
      "prepareEnvCache",
      "prepareStoreMount",
      "saveRecord",
    ]);
    assert.deepEqual(node.realised, [["acme", [HELLO]]]);
    assert.deepEqual([...node.claims], ["c1"], "the caller releases the claim once the spec is written");
    assert.deepEqual([...node.gcRoots], [["/var/lib/imageless/gcroots/c1", PROFILE]]);
    assert.deepEqual([...node.records.keys()], ["c1"]);
    assert.deepEqual([...node.profiles.values()], [PROFILE]);
    assert.deepEqual([...node.dirs], ["/var/lib/imageless/env-cache/c1"]);
  });

  it("runs a spec it already prepared (a retried create) as it is, touching no edge", async () => {
    const { deps, node } = memoryStartDeps({ lockText: helloLock });
    const prepared = (await prepareContainer("c1", podSpec, deps)).spec;
    const retried = memoryStartDeps({ lockText: helloLock });
    const outcome = await prepareContainer("c1", prepared, retried.deps);
    assert.deepEqual(outcome, { kind: "unmodified", spec: prepared, reason: "already-prepared" });
    assert.equal(outcome.spec, prepared, "the very spec, not a copy");
    assert.deepEqual(retried.node.calls, []);
    assert.deepEqual(retried.node.logLines, []);
    assert.ok(node.calls.length > 0);
  });

  it("reuses a cached profile: neither realise nor buildProfile runs, and nothing is remembered again", async () => {
    const { deps, node } = memoryStartDeps({ lockText: helloLock, cachedProfile: PROFILE });
    const outcome = await prepareContainer("c1", podSpec, deps);
    assert.deepEqual(
      outcome,
      helloOutcome({
        live: true,
        cacheHit: true,
        profileReused: true,
        fetched: false,
        resolveMs: 10,
        realiseMs: 10,
        buildMs: 10,
        totalMs: 40,
      }),
    );
    assert.deepEqual(node.calls, [
      "readToken",
      "resolve",
      "cachedProfile",
      "claim",
      "addGcRoot",
      "profileFacts",
      "prepareEnvCache",
      "prepareStoreMount",
      "saveRecord",
    ]);
    assert.deepEqual([...node.profiles], []);
  });

  for (const [name, failing] of [
    ["the profile's GC root", 1],
    ["the [runtime] cacert GC root, after the profile's", 2],
  ] as const) {
    it(`a failing addGcRoot (${name}) leaves no claim, record, GC root or directory, and the caller gets the error`, async () => {
      const error = new Error("symlink /var/lib/imageless/gcroots/c1: no space left on device");
      const { deps, node } = memoryStartDeps({
        lockText: helloLock,
        config: `[runtime]\ncacert = "${CACERT}"\n`,
        failAddGcRoot: { call: failing, error },
      });
      await assert.rejects(prepareContainer("c1", podSpec, deps), (thrown) => thrown === error);
      assert.equal(node.calls.at(-1), "dropState");
      assert.equal(node.calls.filter((call) => call === "addGcRoot").length, failing);
      assert.deepEqual(
        {
          claims: [...node.claims],
          gcRoots: [...node.gcRoots],
          records: [...node.records],
          dirs: [...node.dirs],
        },
        { claims: [], gcRoots: [], records: [], dirs: [] },
      );
    });
  }
});

describe("prepareContainer() for a private environment without a token (real token read and hub)", () => {
  let work: string;
  let hub: TestHub;
  before(async () => {
    work = await makeTempDir("start-private");
    const access = new InMemoryHubAccess();
    const data = join(work, "data");
    await writeFloxmeta(join(data, "git"), "alice", [
      { name: "secret", generations: [{ manifestToml: "version = 1\n", lock: JSON.parse(helloLock) }] },
    ]);
    access.environments.set("alice/secret", "private");
    hub = await startTestHub((app) =>
      registerGitRoutes(
        app,
        inMemoryServices(data, access),
        createLogger(() => {}),
      ),
    );
  });
  after(async () => {
    await hub?.close();
    await removeTree(work);
  });

  it("fails with the line the user sees, before anything is realised or claimed", async () => {
    const { deps, node } = memoryStartDeps({
      lockText: helloLock,
      config: `[floxhub]\nurl = "${hub.url}"\n[runtime]\nstate-dir = "${join(work, "state")}"\n`,
      real: (config) => {
        const real = nodeStartDeps(
          config,
          createLogger(() => {}),
        );
        return { readToken: real.readToken, resolve: real.resolve };
      },
    });
    const spec = {
      ...podSpec,
      annotations: { ...podSpec.annotations, "flox.dev/environment": "alice/secret" },
    };
    await assert.rejects(prepareContainer("c1", spec, deps), {
      message: `environment 'alice/secret' at ${hub.url}/git: access denied: no FloxHub token was given; mount the floxhub-token secret`,
    });
    assert.deepEqual(node.calls, ["readToken", "resolve"]);
    assert.deepEqual([node.claims.size, node.gcRoots.size, node.records.size], [0, 0, 0]);
  });
});
