import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { Command } from "commander";
import { type CriClient, connectCri, grpcErrorMessage } from "../cri/cri-client.js";
import { ImagelessError } from "../errors/imageless-error.js";
import { configPathFromEnv, loadNodeConfig } from "../node/config.js";
import { nodeLogPath } from "../node/node-log.js";
import { readContainerLog } from "../pod-runner/container-log.js";
import { missingSecrets, parseSecretFlags } from "../pod-runner/cri-requests.js";
import { DEMO_CONTAINERD_SOCKET, DEMO_NODE_CONFIG, DEMO_POD_LOG_DIR } from "../pod-runner/demo-paths.js";
import { type FollowedFile, followFile } from "../pod-runner/follow-file.js";
import { formatPodList, formatStartedPod } from "../pod-runner/format.js";
import { parsePodManifest } from "../pod-runner/pod-manifest.js";
import { progressLine } from "../pod-runner/progress-lines.js";
import { containerOf, listPods, removePod, requirePod, runPodManifest } from "../pod-runner/run-pod.js";

interface SocketFlags {
  containerdSocket: string;
  namespace: string;
}

/**
 * `imageless pod …` (run, ls, logs, exec, rm): plays the kubelet on one machine for Pod YAML files (docs/pods.md). A local
 * tool for trying pods against a containerd, not a kubelet: it starts, reads and removes; it never
 * restarts, probes or schedules.
 */
export function registerPodCommands(program: Command): void {
  const pod = program
    .command("pod")
    .description("run Pod YAML files against a local containerd over CRI (a local tool, not a kubelet)");

  socket(pod.command("run").description("start the pod a Pod manifest describes").argument("<file>"))
    .option("--log-dir <dir>", "where pod logs go", DEMO_POD_LOG_DIR)
    .option("--secret <name=dir>", "a Secret's files: one file per key in DIR (repeatable)", collect, [])
    .option("--json", "print JSON for scripts")
    .option(
      "--node-config <path>",
      "the node config, whose runtime log shows download progress (default: $IMAGELESS_CONFIG, else the demo's)",
      configPathFromEnv(process.env) ?? DEMO_NODE_CONFIG,
    )
    .action(async (file: string, f: RunFlags) => {
      const text = await readFile(file, "utf8").catch((error: unknown) => {
        throw new ImagelessError("invalid-input", `cannot read ${file}: ${(error as Error).message}`);
      });
      const parsed = parsePodManifest(text, file);
      if (!parsed.ok) throw new ImagelessError("invalid-input", parsed.problems.join("\n"));
      const secrets = parseSecretFlags(f.secret);
      if (!secrets.ok) throw new ImagelessError("invalid-input", secrets.problems.join("\n"));
      const secretDirs = Object.fromEntries(Object.entries(secrets.dirs).map(([k, v]) => [k, resolve(v)]));
      const missing = missingSecrets(parsed.pod, secretDirs);
      if (missing.length > 0) throw new ImagelessError("invalid-input", missing.join("\n"));
      // Progress is for a person at a terminal; scripts (--json, a pipe) get the result only.
      const progress =
        f.json !== true && process.stderr.isTTY === true ? await followProgress(f.nodeConfig) : undefined;
      const started = await withCri(f, (cri) =>
        runPodManifest(cri, parsed.pod, { logDir: resolve(f.logDir), secretDirs }),
      ).finally(() => progress?.stop());
      process.stdout.write(
        `${f.json === true ? JSON.stringify(started, null, 2) : formatStartedPod(started)}\n`,
      );
    });

  socket(pod.command("logs").description("print what a container of the pod wrote").argument("<pod>"))
    .option("-c, --container <name>", "the container (default: the first app container)")
    .action(async (name: string, f: SocketFlags & { container?: string }) => {
      const log = await withCri(f, async (cri) => {
        const id = await containerOf(cri, await requirePod(cri, name, f.namespace), f.container);
        return readContainerLog((await cri.containerStatus(id)).logPath);
      });
      process.stdout.write(log.stdout);
      process.stderr.write(log.stderr);
    });

  socket(
    pod
      .command("exec")
      .description("run a command in a container of the pod, as kubectl exec does (no terminal)")
      .argument("<pod>")
      .argument("<command...>", "after --"),
  )
    .option("-c, --container <name>", "the container (default: the first app container)")
    .action(async (name: string, command: string[], f: SocketFlags & { container?: string }) => {
      const result = await withCri(f, async (cri) => {
        const id = await containerOf(cri, await requirePod(cri, name, f.namespace), f.container);
        return cri.execSync(id, command, 0);
      });
      process.stdout.write(result.stdout);
      process.stderr.write(result.stderr);
      process.exitCode = result.exitCode;
    });

  socket(
    pod.command("ls").description("the pods imageless pod run started, with their containers' states"),
  ).action(async (f: SocketFlags) => {
    const rows = await withCri(f, (cri) => listPods(cri));
    process.stdout.write(`${formatPodList(rows)}\n`);
  });

  socket(pod.command("rm").description("stop and remove the pod").argument("<pod...>")).action(
    async (names: string[], f: SocketFlags) => {
      await withCri(f, async (cri) => {
        for (const name of names) {
          await removePod(cri, await requirePod(cri, name, f.namespace));
          process.stdout.write(`pod ${name} removed\n`);
        }
      });
    },
  );
}

type RunFlags = SocketFlags & { logDir: string; secret: string[]; json?: boolean; nodeConfig: string };

/**
 * Follows the node's runtime log (found through its config) from its end, printing the download
 * progress of the containers being created on stderr; a node config or log that cannot be found
 * means no progress, never a failed run.
 */
async function followProgress(nodeConfigPath: string): Promise<FollowedFile | undefined> {
  const loaded = await loadNodeConfig(nodeConfigPath).catch(() => undefined);
  if (loaded === undefined) return undefined;
  return followFile(nodeLogPath(loaded.config), (line) => {
    const shown = progressLine(line);
    if (shown !== undefined) process.stderr.write(`${shown}\n`);
  });
}

function socket(cmd: Command): Command {
  return cmd
    .option("--containerd-socket <path>", "containerd's socket (default: the demo's)", DEMO_CONTAINERD_SOCKET)
    .option("-n, --namespace <ns>", "the pod's namespace", "default");
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Connects, runs `work`, closes; an unreachable socket becomes one line naming it. */
async function withCri<T>(f: SocketFlags, work: (cri: CriClient) => Promise<T>): Promise<T> {
  const cri = connectCri(f.containerdSocket);
  try {
    await cri.version().catch((error: unknown) => {
      throw new ImagelessError(
        "unavailable",
        `containerd does not answer on ${f.containerdSocket} (${grpcErrorMessage(error)}): start it (bash scripts/demo.sh) or pass --containerd-socket`,
      );
    });
    return await work(cri);
  } catch (error) {
    if (error instanceof ImagelessError) throw error;
    throw new ImagelessError("failed-precondition", `containerd: ${grpcErrorMessage(error)}`, {
      cause: error,
    });
  } finally {
    cri.close();
  }
}
