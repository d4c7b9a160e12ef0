/**
 * `imageless pod`'s IO: start a parsed Pod over CRI the way the kubelet would (sandbox, init
 * containers one after another to completion, then the app containers), and find, read, exec into
 * and remove pods it started. A local tool for one machine, not a kubelet: nothing restarts.
 */
import { randomUUID } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { type CriClient, grpcErrorMessage, type PodSandbox } from "../cri/cri-client.js";
import { ImagelessError } from "../errors/imageless-error.js";
import { Annotation } from "../pod/annotations.js";
import { readContainerLog, waitForExit } from "./container-log.js";
import { containerConfigFor, RunnerLabel, sandboxConfigFor } from "./cri-requests.js";
import type { PodContainer, PodManifest } from "./pod-manifest.js";

export interface RunPodOptions {
  /** Where the pod's log directory goes (the kubelet's /var/log/pods). */
  readonly logDir: string;
  /** Secret name → local directory (absolute). */
  readonly secretDirs: Readonly<Record<string, string>>;
  /** How long one init container may run. */
  readonly initTimeoutMs?: number;
}

/** One container's start: its ID and how long CreateContainer + StartContainer took. */
export interface StartedContainer {
  readonly name: string;
  readonly role: "init" | "app";
  readonly id: string;
  readonly startMs: number;
  /** Init containers: their exit code. */
  readonly exitCode?: number;
}

export interface StartedPod {
  readonly name: string;
  readonly namespace: string;
  readonly podId: string;
  readonly containers: readonly StartedContainer[];
  /** From the first CRI call to the last app container started. */
  readonly totalMs: number;
}

/**
 * Starts the pod. On a container that cannot be created or started, or an init container that
 * exits non-zero, the sandbox is kept (its logs stay readable) and the error names the container.
 *
 * @throws {ImagelessError} `failed-precondition` when a pod of that name runs already or a
 *   container does not start (containerd's message, e.g. the runtime's `imageless: …` line).
 */
export async function runPodManifest(
  cri: CriClient,
  pod: PodManifest,
  opts: RunPodOptions,
): Promise<StartedPod> {
  if ((await findPod(cri, pod.name, pod.namespace)) !== undefined) {
    throw new ImagelessError(
      "failed-precondition",
      `pod ${pod.name} exists already: remove it first with \`imageless pod rm ${pod.name}\``,
    );
  }
  const began = Date.now();
  const config = sandboxConfigFor(pod, opts.logDir, randomUUID());
  await mkdir(config.logDirectory ?? opts.logDir, { recursive: true });
  const podId = await cri.runPodSandbox({
    config,
    ...(pod.runtimeClassName === undefined ? {} : { runtimeHandler: pod.runtimeClassName }),
  });
  const started: StartedContainer[] = [];

  async function start(container: PodContainer, role: "init" | "app"): Promise<StartedContainer> {
    const t0 = Date.now();
    try {
      const id = await cri.createContainer({
        podSandboxId: podId,
        config: containerConfigFor(pod, container, role, opts.secretDirs),
        sandboxConfig: config,
      });
      await cri.startContainer(id);
      return { name: container.name, role, id, startMs: Date.now() - t0 };
    } catch (error) {
      throw new ImagelessError(
        "failed-precondition",
        `pod ${pod.name}: container ${container.name} did not start: ${grpcErrorMessage(error)}`,
        { cause: error },
      );
    }
  }

  for (const container of pod.initContainers) {
    const run = await start(container, "init");
    const exitCode = await waitForExit(cri, run.id, opts.initTimeoutMs ?? 600_000);
    started.push({ ...run, exitCode });
    if (exitCode !== 0) {
      const last = await lastLogLine(cri, run.id);
      throw new ImagelessError(
        "failed-precondition",
        `pod ${pod.name}: init container ${container.name} exited ${exitCode}${last === "" ? "" : ` (it said: ${last})`}; see \`imageless pod logs ${pod.name} -c ${container.name}\``,
      );
    }
  }
  for (const container of pod.containers) started.push(await start(container, "app"));
  return {
    name: pod.name,
    namespace: pod.namespace,
    podId,
    containers: started,
    totalMs: Date.now() - began,
  };
}

/** The ready sandbox `imageless pod run` started under this name, if any. */
export async function findPod(
  cri: CriClient,
  name: string,
  namespace: string,
): Promise<PodSandbox | undefined> {
  const pods = await cri.listPodSandbox({ labelSelector: { [RunnerLabel.managed]: "true" } });
  return pods.find(
    (p) => p.state === "SANDBOX_READY" && p.metadata?.name === name && p.metadata.namespace === namespace,
  );
}

/** The sandbox of a pod, or `not-found` naming it. */
export async function requirePod(cri: CriClient, name: string, namespace: string): Promise<PodSandbox> {
  const pod = await findPod(cri, name, namespace);
  if (pod === undefined) {
    throw new ImagelessError(
      "not-found",
      `no pod ${name} in namespace ${namespace} (started by imageless pod run)`,
    );
  }
  return pod;
}

/**
 * The ID of a container of the pod: the one named, else the first app container.
 *
 * @throws {ImagelessError} `not-found` naming the containers the pod has.
 */
export async function containerOf(
  cri: CriClient,
  pod: PodSandbox,
  name: string | undefined,
): Promise<string> {
  const containers = (await cri.listContainers({ podSandboxId: pod.id })).sort(
    (a, b) => a.createdAt - b.createdAt,
  );
  const found =
    name === undefined
      ? containers.find((c) => c.labels[RunnerLabel.role] === "app")
      : containers.find((c) => c.metadata?.name === name);
  if (found === undefined) {
    const names = containers.map((c) => c.metadata?.name ?? c.id).join(", ") || "none";
    throw new ImagelessError(
      "not-found",
      `pod ${pod.metadata?.name ?? pod.id} has no container ${name ?? "(app)"}; its containers: ${names}`,
    );
  }
  return found.id;
}

/** Stops and removes the pod's sandbox with its containers (what `kubectl delete pod` ends in). */
export async function removePod(cri: CriClient, pod: PodSandbox): Promise<void> {
  await cri.stopPodSandbox(pod.id);
  await cri.removePodSandbox(pod.id);
}

/** The last line a container wrote (stderr first: that is where programs say why they failed). */
async function lastLogLine(cri: CriClient, containerId: string): Promise<string> {
  const log = await readContainerLog((await cri.containerStatus(containerId)).logPath).catch(() => undefined);
  const lines = (text: string) => text.split("\n").filter((line) => line.trim() !== "");
  return (lines(log?.stderr ?? "").at(-1) ?? lines(log?.stdout ?? "").at(-1) ?? "").trim();
}

/** A pod `imageless pod run` started, for `imageless pod ls`. */
export interface PodRow {
  readonly namespace: string;
  readonly name: string;
  readonly environment: string;
  /** `name=STATE` per container, oldest first (`app=running`, `load-quotes=exited`). */
  readonly containers: readonly string[];
}

/** Every ready pod `imageless pod run` started, by namespace and name. */
export async function listPods(cri: CriClient): Promise<PodRow[]> {
  const pods = await cri.listPodSandbox({ labelSelector: { [RunnerLabel.managed]: "true" } });
  const rows: PodRow[] = [];
  for (const pod of pods.filter((p) => p.state === "SANDBOX_READY")) {
    const containers = (await cri.listContainers({ podSandboxId: pod.id })).sort(
      (a, b) => a.createdAt - b.createdAt,
    );
    rows.push({
      namespace: pod.metadata?.namespace ?? "",
      name: pod.metadata?.name ?? pod.id,
      environment: pod.annotations[Annotation.environment] ?? "",
      containers: containers.map(
        (c) => `${c.metadata?.name ?? c.id}=${c.state.replace(/^CONTAINER_/, "").toLowerCase()}`,
      ),
    });
  }
  return rows.sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
}
