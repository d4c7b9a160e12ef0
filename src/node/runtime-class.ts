/** The RuntimeClass pods name (`runtimeClassName: flox`), scheduled onto nodes labelled for it (SPEC §8). */
export function renderRuntimeClass(handler = "flox"): string {
  return [
    "apiVersion: node.k8s.io/v1",
    "kind: RuntimeClass",
    "metadata:",
    `  name: ${handler}`,
    `handler: ${handler}`,
    "scheduling:",
    "  nodeSelector:",
    '    flox.dev/enabled: "true"',
    "",
  ].join("\n");
}
