/**
 * What containerd's runc shim (io.containerd.runc.v2, namespace k8s.io) hands runc, as test input for
 * the argv parser and the wrapper scripts: one task's bundle and the global flags before every command.
 */

/** The bundle directory of task `abc`. */
export const SHIM_BUNDLE = "/run/containerd/io.containerd.runtime.v2.task/k8s.io/abc";

/** The global flags the shim puts before every runc command. */
export const SHIM_GLOBAL: readonly string[] = [
  "--root",
  "/run/containerd/runc/k8s.io",
  "--log",
  `${SHIM_BUNDLE}/log.json`,
  "--log-format",
  "json",
];
