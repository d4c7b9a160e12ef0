import { posix } from "node:path";

/**
 * Where a host path is for this process: `hostRoot` is the host's `/` as seen here (`/` on the
 * node, `/host` in the DaemonSet's container). Paths written into files (BinaryName, the record)
 * stay host paths; only reads and writes go through this.
 *
 * @example
 * onHost("/host", "/etc/containerd/config.toml"); // "/host/etc/containerd/config.toml"
 */
export function onHost(hostRoot: string, path: string): string {
  return hostRoot === "/" ? path : posix.join(hostRoot, path);
}
