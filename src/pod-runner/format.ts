import type { PodRow, StartedPod } from "./run-pod.js";

/** `imageless pod run`'s text output: the pod and each container with its start time. Pure. */
export function formatStartedPod(pod: StartedPod): string {
  const lines = [`pod ${pod.name} started in ${pod.totalMs} ms (sandbox ${pod.podId.slice(0, 12)})`];
  for (const c of pod.containers) {
    const exit = c.exitCode === undefined ? "" : `, exited ${c.exitCode}`;
    lines.push(`  ${c.role} container ${c.name}: started in ${c.startMs} ms${exit}`);
  }
  return lines.join("\n");
}

/** `imageless pod ls`: one line per pod. Pure. */
export function formatPodList(rows: readonly PodRow[]): string {
  if (rows.length === 0) return "no pods";
  const lines = rows.map((r) => [`${r.namespace}/${r.name}`, r.environment || "-", r.containers.join(" ")]);
  const header = ["POD", "ENVIRONMENT", "CONTAINERS"];
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? "").length)));
  return [header, ...lines]
    .map((l) =>
      l
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
