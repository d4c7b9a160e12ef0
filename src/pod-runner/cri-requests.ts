/**
 * What the kubelet would send containerd for a Pod manifest, on one machine without CNI: a
 * host-network sandbox (no hostname: runc cannot set one without a UTS namespace) and one container
 * config per manifest container, Secret volumes bound read-only from local directories. Pure.
 */
import { join } from "node:path";
import type { ContainerConfig, PodSandboxConfig } from "../cri/types.js";
import type { PodContainer, PodManifest } from "./pod-manifest.js";

/** Labels `imageless pod` puts on what it creates, to find it again. */
export const RunnerLabel = {
  /** On the sandbox: the pod was started by `imageless pod run`. */
  managed: "imageless.dev/pod-runner",
  /** On a container: `init` or `app`. */
  role: "imageless.dev/container-role",
} as const;

/**
 * The sandbox config: the manifest's labels and annotations, host network, a pod-wide PID
 * namespace, and the kubelet's log layout `<logDir>/<namespace>_<name>_<uid>`.
 */
export function sandboxConfigFor(pod: PodManifest, logDir: string, uid: string): PodSandboxConfig {
  return {
    metadata: { name: pod.name, uid, namespace: pod.namespace, attempt: 0 },
    logDirectory: join(logDir, `${pod.namespace}_${pod.name}_${uid}`),
    labels: { ...pod.labels, [RunnerLabel.managed]: "true" },
    annotations: { ...pod.annotations },
    linux: { securityContext: { namespaceOptions: { network: "NODE", pid: "POD", ipc: "POD" } } },
  };
}

/**
 * One container's config. `secretDirs` maps a Secret's name to the local directory holding its
 * files (checked beforehand by {@link missingSecrets}).
 */
export function containerConfigFor(
  pod: PodManifest,
  container: PodContainer,
  role: "init" | "app",
  secretDirs: Readonly<Record<string, string>>,
): ContainerConfig {
  const secretOf = new Map(pod.volumes.map((v) => [v.name, v.secretName]));
  return {
    metadata: { name: container.name, attempt: 0 },
    image: { image: container.image },
    command: [...container.command],
    args: [...container.args],
    ...(container.workingDir === undefined ? {} : { workingDir: container.workingDir }),
    envs: container.env.map((e) => ({ key: e.name, value: e.value })),
    mounts: container.volumeMounts.map((m) => ({
      hostPath: secretDirs[secretOf.get(m.name) ?? ""] ?? "",
      containerPath: m.mountPath,
      readonly: true,
    })),
    labels: { [RunnerLabel.role]: role },
    annotations: {},
    logPath: join(container.name, "0.log"),
  };
}

/** One line per Secret the pod mounts that `--secret NAME=DIR` did not provide. */
export function missingSecrets(pod: PodManifest, secretDirs: Readonly<Record<string, string>>): string[] {
  const mounted = new Set(
    [...pod.initContainers, ...pod.containers].flatMap((c) => c.volumeMounts.map((m) => m.name)),
  );
  return pod.volumes
    .filter((v) => mounted.has(v.name) && secretDirs[v.secretName] === undefined)
    .map(
      (v) =>
        `pod ${pod.name}: volume ${v.name} needs Secret ${v.secretName}: pass --secret ${v.secretName}=DIR (a directory holding one file per key)`,
    );
}

/**
 * Parses `--secret NAME=DIR` flags.
 *
 * @returns the map, or the problems (one line each)
 */
export function parseSecretFlags(
  flags: readonly string[],
): { ok: true; dirs: Record<string, string> } | { ok: false; problems: string[] } {
  const dirs: Record<string, string> = {};
  const problems: string[] = [];
  for (const flag of flags) {
    const at = flag.indexOf("=");
    if (at <= 0 || at === flag.length - 1) {
      problems.push(`--secret: cannot use "${flag}": accepted is NAME=DIR`);
      continue;
    }
    dirs[flag.slice(0, at)] = flag.slice(at + 1);
  }
  return problems.length === 0 ? { ok: true, dirs } : { ok: false, problems };
}
