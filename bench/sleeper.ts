/**
 * The one sandbox + create + start sequence the benchmarks time: a sleeping container in a fresh pod,
 * with how long CreateContainer + StartContainer took (plus, for an image pulled on demand, the pull
 * that precedes them), and a cleanup that removes the pod.
 */
import type { CriClient } from "../src/cri/cri-client.js";
import { sandboxConfig } from "../test/harness/pod.js";

/** What to start: the handler, pod annotations, image and command. */
export interface SleeperSpec {
  readonly name: string;
  readonly handler: string;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly image: string;
  readonly command: readonly string[];
  /** Timed with the start, before CreateContainer (an image pull, as the kubelet's PullImage). */
  readonly before?: () => Promise<void>;
}

/** A running sleeper, how long its start took (ms) and its cleanup. */
export interface Sleeper {
  readonly id: string;
  readonly startMs: number;
  remove(): Promise<void>;
}

/** Runs the pod (not timed), then times `before` + CreateContainer + StartContainer. A failed start removes the pod. */
export async function startSleeper(
  node: { readonly cri: CriClient; readonly logDir: string },
  spec: SleeperSpec,
): Promise<Sleeper> {
  const config = sandboxConfig({ name: spec.name, logDir: node.logDir, annotations: spec.annotations ?? {} });
  const podId = await node.cri.runPodSandbox({ config, runtimeHandler: spec.handler });
  const remove = async (): Promise<void> => {
    await node.cri.stopPodSandbox(podId);
    await node.cri.removePodSandbox(podId);
  };
  try {
    const started = performance.now();
    await spec.before?.();
    const id = await node.cri.createContainer({
      podSandboxId: podId,
      sandboxConfig: config,
      config: {
        metadata: { name: "app", attempt: 0 },
        image: { image: spec.image },
        command: [...spec.command],
        logPath: "app/0.log",
      },
    });
    await node.cri.startContainer(id);
    return { id, startMs: performance.now() - started, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}
