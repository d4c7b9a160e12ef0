import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type CriClient, connectCri } from "../../src/cri/cri-client.js";
import { buildEmptyImage, EMPTY_IMAGE_REF } from "../../src/image/empty-image.js";
import { type Containerd, startContainerd } from "./containerd.js";
import { buildBusyboxImage } from "./images.js";
import { nodeLeaks } from "./leaks.js";
import { buildFixturePackages, type Fixtures } from "./nix-fixtures.js";
import { type AgentProcess, startAgentProcess } from "./node-agent-process.js";
import {
  type ContainerSpec,
  type PodResult,
  type RunningPod,
  removePod,
  runPod,
  runToCompletion,
} from "./pod.js";
import { repoRoot } from "./repo-root.js";
import { makeTempDir, removeTree } from "./temp.js";

/** The runtime handler name tests register the wrapper under, as a cluster would. */
export const FLOX_HANDLER = "flox";

export interface FloxNodeOptions {
  /** git base the node resolves environments from (file:// or http://). */
  readonly gitUrl: string;
  /** Substituter URL; defaults to the fixtures' file:// cache (none when `cacheUrl` is set). */
  readonly substituter?: string;
  /** `[floxhub] cache-url`: the hub's cache base; a start of `o/n` substitutes from `<cacheUrl>/o`. */
  readonly cacheUrl?: string;
  /** Fixture packages to trust (their cache's key); built in the node's dir when absent. */
  readonly fixtures?: Fixtures;
  /** The `flox` handler's BinaryName; default: the checkout's bin/imageless-runc. */
  readonly runtimeBinary?: string;
  /** Extra TOML appended to the node config. */
  readonly extraConfig?: string;
  /** Extra environment for containerd, which its shims and so the runtime inherit. */
  readonly env?: Readonly<Record<string, string>>;
  /** Run `imageless node agent` for this node (stopped by `stop()`); without it every call runs in-process. */
  readonly agent?: boolean;
}

/** A node as a cluster would have it: a private containerd whose `flox` handler runs imageless-runc. */
export interface FloxNode {
  readonly dir: string;
  readonly containerd: Containerd;
  readonly cri: CriClient;
  readonly fixtures: Fixtures;
  readonly configPath: string;
  readonly stateDir: string;
  readonly storeRoot: string;
  readonly logDir: string;
  /** The runtime's structured log (JSON lines). */
  readonly runtimeLog: string;
  /** The node agent's socket (`[runtime] agent-socket`, private to this node). */
  readonly agentSocket: string;
  /** The agent started with `agent: true`, if still running. */
  agent: AgentProcess | undefined;
  stop(): Promise<void>;
}

/**
 * Starts a node: temp Nix store root, node config, containerd with the `flox` handler (BinaryName =
 * bin/imageless-runc), and the empty image imported. `stop()` removes everything, also mounts.
 */
export async function startFloxNode(options: FloxNodeOptions): Promise<FloxNode> {
  const dir = await makeTempDir("node");
  let containerd: Containerd | undefined;
  try {
    const fixtures = options.fixtures ?? (await buildFixturePackages(join(dir, "fixtures")));
    const storeRoot = join(dir, "node-store");
    const stateDir = join(dir, "state");
    const configPath = join(dir, "config.toml");
    const agentSocket = join(dir, "agent.sock");
    await writeFile(
      configPath,
      [
        "[floxhub]",
        `url = "https://hub.example.invalid"`,
        `git-url = ${JSON.stringify(options.gitUrl)}`,
        ...(options.cacheUrl === undefined ? [] : [`cache-url = ${JSON.stringify(options.cacheUrl)}`]),
        "[nix]",
        `store-root = ${JSON.stringify(storeRoot)}`,
        `substituters = ${JSON.stringify(
          options.substituter !== undefined
            ? [options.substituter]
            : options.cacheUrl !== undefined
              ? []
              : [fixtures.cacheUrl],
        )}`,
        `trusted-public-keys = [${JSON.stringify(fixtures.publicKey)}]`,
        "[runtime]",
        `state-dir = ${JSON.stringify(stateDir)}`,
        // Always a private socket: a test node must never reach an agent serving the host.
        `agent-socket = ${JSON.stringify(agentSocket)}`,
        "[telemetry]",
        "enabled = false",
        options.extraConfig ?? "",
      ].join("\n"),
    );
    containerd = await startContainerd({
      dir: join(dir, "containerd"),
      runtimes: {
        [FLOX_HANDLER]: { binaryName: options.runtimeBinary ?? join(repoRoot(), "bin", "imageless-runc") },
      },
      // Nix keeps a narinfo cache per substituter URL under $XDG_CACHE_HOME; test caches reuse
      // 127.0.0.1 URLs with fresh keys, so each node gets its own rather than root's shared one.
      env: { ...options.env, IMAGELESS_CONFIG: configPath, XDG_CACHE_HOME: join(dir, "xdg-cache") },
    });
    await containerd.importImage(buildEmptyImage());
    await containerd.importImage(buildBusyboxImage());
    const cri = connectCri(containerd.socket);
    const started = containerd;
    const agent = options.agent === true ? await startAgentProcess(configPath) : undefined;
    const node: FloxNode = {
      dir,
      containerd: started,
      cri,
      fixtures,
      configPath,
      stateDir,
      storeRoot,
      logDir: join(dir, "pod-logs"),
      runtimeLog: join(stateDir, "log", "runtime.jsonl"),
      agentSocket,
      agent,
      /**
       * Removes every pod (containerd's stop does), stops containerd, then checks that nothing the
       * node made is left (leaks.ts) and removes it all; throws, after cleaning up, when something was.
       */
      async stop() {
        cri.close();
        await node.agent?.stop();
        await started.stop();
        const leaks = await nodeLeaks(dir, stateDir);
        await removeTree(dir);
        if (leaks.length > 0) throw new Error(`the node left behind:\n  ${leaks.join("\n  ")}`);
      },
    };
    return node;
  } catch (error) {
    await containerd?.stop().catch(() => {});
    await removeTree(dir);
    throw error;
  }
}

/**
 * Runs `sh -c script` in a one-container pod (`app`, on the empty image) of environment `ref` on
 * `node`, to its end: its output and exit code, or the start error.
 */
export function runInEnvironment(
  node: FloxNode,
  name: string,
  ref: string,
  script: string,
  mounts: ContainerSpec["mounts"] = [],
): Promise<PodResult> {
  return runToCompletion(node.cri, {
    name,
    runtimeHandler: FLOX_HANDLER,
    annotations: { "flox.dev/environment": ref },
    logDir: node.logDir,
    containers: [{ name: "app", image: EMPTY_IMAGE_REF, command: ["sh", "-c", script], mounts }],
  });
}

/** A pod of one container, `app` on the empty image, running `command` in the environment its annotations name. */
export interface FloxPodSpec {
  readonly name: string;
  /** `flox.dev/environment` and any other `flox.dev/…` annotation. */
  readonly annotations: Readonly<Record<string, string>>;
  readonly command: readonly string[];
  readonly logDir: string;
}

/** Runs a {@link FloxPodSpec} pod through CRI with the flox handler; start errors are returned, not thrown. */
export function runFloxPod(cri: CriClient, spec: FloxPodSpec): Promise<RunningPod> {
  return runPod(cri, {
    name: spec.name,
    runtimeHandler: FLOX_HANDLER,
    annotations: spec.annotations,
    logDir: spec.logDir,
    containers: [{ name: "app", image: EMPTY_IMAGE_REF, command: spec.command }],
  });
}

/** Runs a {@link FloxPodSpec} pod, gives it and its `app` container ID to `use`, then removes it (also on failure). */
export async function withFloxPod<T>(
  cri: CriClient,
  spec: FloxPodSpec,
  use: (pod: RunningPod, app: string) => Promise<T>,
): Promise<T> {
  const pod = await runFloxPod(cri, spec);
  try {
    return await use(pod, pod.containers["app"] ?? "");
  } finally {
    await removePod(cri, pod.podId);
  }
}

export { EMPTY_IMAGE_REF };
