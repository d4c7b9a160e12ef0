/**
 * The one way bench/ starts containers: a sleeping container in its own pod through CRI, as the
 * kubelet would (RunPodSandbox, CreateContainer, StartContainer), on the runc handler with the
 * busybox image or on the flox handler with the empty image and an environment annotation. Every
 * bench/run figure that starts containers goes through {@link sleeper}.
 */
import { grpcErrorMessage } from "../src/cri/cri-client.js";
import { EMPTY_IMAGE_REF, FLOX_HANDLER, type FloxNode } from "../test/harness/flox-node.js";
import { BUSYBOX_IMAGE_REF } from "../test/harness/images.js";
import { sandboxConfig } from "../test/harness/pod.js";

/** A running sleeper and how long its CreateContainer+StartContainer took. */
export interface Sleeper {
  readonly podId: string;
  readonly id: string;
  readonly startMs: number;
  /** Stops and removes its pod (and so its container). */
  remove(): Promise<void>;
}

/** What a sleeper may run instead of the defaults (the image comparisons start a pulled image). */
export interface SleeperOptions {
  /** Default: the busybox image on runc, the empty image on flox. */
  readonly image?: string;
  /** Default: `sleep 600` (from the image's or the environment's PATH). */
  readonly command?: readonly string[];
  /** Timed with the start, before CreateContainer: an image pull, as the kubelet's before a create. */
  readonly before?: () => Promise<void>;
}

/**
 * Starts a sleeper: its own host-network pod (the runc handler when `env` is undefined, else the
 * flox one with `flox.dev/environment: env`) and a `sleep 600` container. A failed start removes the
 * pod before rethrowing, so a caller only ever has to remove the sleepers it got back.
 */
export async function sleeper(
  node: Pick<FloxNode, "cri" | "logDir">,
  env: string | undefined,
  name: string,
  options: SleeperOptions = {},
): Promise<Sleeper> {
  const config = sandboxConfig({
    name,
    logDir: node.logDir,
    annotations: env === undefined ? {} : { "flox.dev/environment": env },
  });
  const podId = await node.cri.runPodSandbox({
    config,
    runtimeHandler: env === undefined ? "runc" : FLOX_HANDLER,
  });
  const remove = async (): Promise<void> => {
    await node.cri.stopPodSandbox(podId);
    await node.cri.removePodSandbox(podId);
  };
  try {
    const started = performance.now();
    await options.before?.();
    const id = await node.cri.createContainer({
      podSandboxId: podId,
      sandboxConfig: config,
      config: {
        metadata: { name: "app", attempt: 0 },
        image: { image: options.image ?? (env === undefined ? BUSYBOX_IMAGE_REF : EMPTY_IMAGE_REF) },
        command: [...(options.command ?? ["sleep", "600"])],
        logPath: "app/0.log",
      },
    });
    await node.cri.startContainer(id);
    return { podId, id, startMs: performance.now() - started, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}

/** Times CreateContainer+StartContainer of one sleeper (the warm-start figure) and removes its pod. */
export async function startOnce(node: FloxNode, env: string | undefined, name: string): Promise<number> {
  const started = await sleeper(node, env, name);
  await started.remove();
  return started.startMs;
}

/** Runs each measurement once per round, in turn, and returns every sample by label. */
export async function alternate(
  rounds: number,
  steps: readonly (readonly [string, () => Promise<number>])[],
): Promise<Map<string, number[]>> {
  const samples = new Map<string, number[]>(steps.map(([label]) => [label, []]));
  for (let i = 0; i < rounds; i++) {
    for (const [label, step] of steps) samples.get(label)?.push(await step());
  }
  return samples;
}

/**
 * Calls `task` for every item with at most `concurrency` in flight and returns the settled results
 * in item order. Stops taking new items once `deadline` (a `performance.now()` value) has passed:
 * those items come back as rejections saying so, so a slow machine ends a figure instead of hanging it.
 */
export async function inPool<T, R>(
  items: readonly T[],
  concurrency: number,
  task: (item: T) => Promise<R>,
  deadline = Number.POSITIVE_INFINITY,
): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const at = next++;
      if (performance.now() > deadline) {
        results[at] = { status: "rejected", reason: new Error("not started: the time box ran out") };
        continue;
      }
      try {
        results[at] = { status: "fulfilled", value: await task(items[at] as T) };
      } catch (reason) {
        results[at] = { status: "rejected", reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  return results;
}

/** Removes every sleeper, `concurrency` at a time, and throws the first failure after trying them all. */
export async function removeAll(sleepers: readonly Sleeper[], concurrency = 4): Promise<void> {
  const results = await inPool(sleepers, concurrency, (s) => s.remove());
  const failed = results.find((r) => r.status === "rejected");
  if (failed !== undefined) throw failed.reason;
}

/** The reasons of the rejected results, one line each, for an error message. */
export function failures(results: readonly PromiseSettledResult<unknown>[]): string[] {
  return results.flatMap((r) => (r.status === "rejected" ? [grpcErrorMessage(r.reason)] : []));
}
