import type { StartedPod } from "./run-pod.js";

/** `imageless pod run`'s text output: the pod and each container with its start time. Pure. */
export function formatStartedPod(pod: StartedPod): string {
  const lines = [`pod ${pod.name} started in ${pod.totalMs} ms (sandbox ${pod.podId.slice(0, 12)})`];
  for (const c of pod.containers) {
    const exit = c.exitCode === undefined ? "" : `, exited ${c.exitCode}`;
    lines.push(`  ${c.role} container ${c.name}: started in ${c.startMs} ms${exit}`);
  }
  return lines.join("\n");
}
