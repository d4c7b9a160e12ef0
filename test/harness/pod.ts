/**
 * Runs a pod the way the kubelet would, through CRI: a host-network sandbox, init containers one
 * after another (each waited to exit), then the app containers. Start failures are returned, not
 * thrown, because tests assert on the message users would see in `kubectl describe pod`.
 */
import { randomUUID } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type CriClient, grpcErrorMessage, type PodSandboxConfig } from "../../src/cri/cri-client.js";
import { readContainerLog, waitForExit } from "../../src/pod-runner/container-log.js";

export {
  type ContainerLog,
  parseCriLog,
  readContainerLog,
  waitForExit,
} from "../../src/pod-runner/container-log.js";

/** One container of a pod, like a pod spec's container entry. */
export interface ContainerSpec {
  readonly name: string;
  /** A ref containerd already has (import it first). */
  readonly image: string;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly mounts?: readonly { hostPath: string; containerPath: string; readonly?: boolean }[];
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface RunPodOptions {
  readonly name: string;
  /** The RuntimeClass handler; containerd's default (`runc`) when absent. */
  readonly runtimeHandler?: string;
  /** Pod annotations (`flox.dev/…`). */
  readonly annotations?: Readonly<Record<string, string>>;
  /** Where pod log directories go; container logs are `<logDir>/<namespace>_<pod>_<uid>/<container>/0.log`. */
  readonly logDir: string;
  readonly containers: readonly ContainerSpec[];
  readonly initContainers?: readonly ContainerSpec[];
  /** How long each init container may run; default 60 s. */
  readonly initTimeoutMs?: number;
}

export interface RunningPod {
  readonly podId: string;
  /** Container IDs by name, for every container that was created. */
  readonly containers: Readonly<Record<string, string>>;
  /** The gRPC message of a failed CreateContainer or StartContainer, by container name. */
  readonly startErrors: Readonly<Record<string, string>>;
  /** Exit codes of the init containers that ran. */
  readonly initExitCodes: Readonly<Record<string, number>>;
  /** Absolute log file paths by container name. */
  readonly logPaths: Readonly<Record<string, string>>;
}

/**
 * The sandbox config for a host-network pod: no `hostname` (runc cannot set one without a UTS
 * namespace) and a pod-wide PID namespace. Pure.
 */
export function sandboxConfig(
  opts: Pick<RunPodOptions, "name" | "annotations" | "logDir">,
): PodSandboxConfig {
  const uid = randomUUID();
  return {
    metadata: { name: opts.name, uid, namespace: "default", attempt: 0 },
    // One directory per pod, as kubelet's /var/log/pods/<namespace>_<name>_<uid>: pods that reuse a
    // container name must not append to each other's logs.
    logDirectory: join(opts.logDir, `default_${opts.name}_${uid}`),
    annotations: { ...opts.annotations },
    labels: { "imageless.test/pod": opts.name },
    linux: { securityContext: { namespaceOptions: { network: "NODE", pid: "POD", ipc: "POD" } } },
  };
}

/**
 * Runs the sandbox and its containers. An init container that fails to start or exits non-zero
 * stops the pod's start there, as the kubelet would (the app containers are then not created).
 *
 * @example
 * const pod = await runPod(cri, { name: "hi", logDir, containers: [{ name: "app", image: BUSYBOX_IMAGE_REF, command: ["echo", "hi"] }] });
 * await waitForExit(cri, pod.containers["app"] ?? "", 10_000);
 */
export async function runPod(cri: CriClient, opts: RunPodOptions): Promise<RunningPod> {
  const config = sandboxConfig(opts);
  const logDirectory = config.logDirectory ?? opts.logDir;
  await mkdir(logDirectory, { recursive: true });
  const podId = await cri.runPodSandbox({
    config,
    ...(opts.runtimeHandler === undefined ? {} : { runtimeHandler: opts.runtimeHandler }),
  });
  const containers: Record<string, string> = {};
  const startErrors: Record<string, string> = {};
  const initExitCodes: Record<string, number> = {};
  const logPaths: Record<string, string> = {};

  async function start(spec: ContainerSpec): Promise<string | undefined> {
    logPaths[spec.name] = join(logDirectory, spec.name, "0.log");
    let id: string;
    try {
      id = await cri.createContainer({
        podSandboxId: podId,
        config: containerConfig(spec),
        sandboxConfig: config,
      });
    } catch (error) {
      startErrors[spec.name] = grpcErrorMessage(error);
      return undefined;
    }
    containers[spec.name] = id;
    try {
      await cri.startContainer(id);
      return id;
    } catch (error) {
      startErrors[spec.name] = grpcErrorMessage(error);
      return undefined;
    }
  }

  for (const spec of opts.initContainers ?? []) {
    const id = await start(spec);
    if (id === undefined) return { podId, containers, startErrors, initExitCodes, logPaths };
    const code = await waitForExit(cri, id, opts.initTimeoutMs ?? 60_000);
    initExitCodes[spec.name] = code;
    if (code !== 0) return { podId, containers, startErrors, initExitCodes, logPaths };
  }
  for (const spec of opts.containers) await start(spec);
  return { podId, containers, startErrors, initExitCodes, logPaths };
}

function containerConfig(spec: ContainerSpec) {
  return {
    metadata: { name: spec.name, attempt: 0 },
    image: { image: spec.image },
    command: [...(spec.command ?? [])],
    args: [...(spec.args ?? [])],
    envs: Object.entries(spec.env ?? {}).map(([key, value]) => ({ key, value })),
    mounts: (spec.mounts ?? []).map((m) => ({
      hostPath: m.hostPath,
      containerPath: m.containerPath,
      readonly: m.readonly ?? false,
    })),
    annotations: { ...spec.annotations },
    logPath: join(spec.name, "0.log"),
  };
}

/** Stops and removes the pod sandbox with its containers. */
export async function removePod(cri: CriClient, podId: string): Promise<void> {
  await cri.stopPodSandbox(podId);
  await cri.removePodSandbox(podId);
}

/** What a one-container pod did: its stdout (trimmed) and exit code, or why it did not start. */
export interface PodResult {
  readonly output?: string;
  readonly exitCode?: number;
  readonly error?: string;
}

/**
 * Runs a pod with one container to completion and removes it: the container's stdout and exit code,
 * or its CreateContainer/StartContainer error.
 */
export async function runToCompletion(
  cri: CriClient,
  opts: RunPodOptions,
  timeoutMs = 60_000,
): Promise<PodResult> {
  const name = opts.containers[0]?.name ?? "";
  const pod = await runPod(cri, opts);
  try {
    const error = pod.startErrors[name];
    if (error !== undefined) return { error };
    const exitCode = await waitForExit(cri, pod.containers[name] ?? "", timeoutMs);
    return { output: (await readContainerLog(pod.logPaths[name] ?? "")).stdout.trim(), exitCode };
  } finally {
    await removePod(cri, pod.podId);
  }
}
