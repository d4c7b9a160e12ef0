/**
 * The config of a private containerd for tests: paths under one dir and the `version = 2` TOML
 * with the CRI plugin set up for host-network pods, a local pause image and extra runc handlers.
 */
import { join } from "node:path";
import { stringify } from "smol-toml";
import { PAUSE_IMAGE_REF } from "../images.js";

/** An extra CRI runtime handler: the stock runc shim with `options.BinaryName` set. */
export interface RuntimeHandler {
  /** The program the runc shim runs instead of runc (a wrapper or a fake). */
  readonly binaryName: string;
}

/** Layout of one private containerd. */
export interface ContainerdPaths {
  readonly dir: string;
  readonly root: string;
  readonly state: string;
  readonly socket: string;
  readonly cniConfDir: string;
  readonly cniBinDir: string;
  readonly runcRoot: string;
}

/** The paths {@link startContainerd} uses under `dir`. */
export function containerdPaths(dir: string): ContainerdPaths {
  return {
    dir,
    root: join(dir, "root"),
    state: join(dir, "state"),
    socket: join(dir, "containerd.sock"),
    cniConfDir: join(dir, "cni", "conf"),
    cniBinDir: join(dir, "cni", "bin"),
    runcRoot: join(dir, "runc"),
  };
}

/**
 * The `version = 2` config text for a private containerd 1.6/1.7. Pure.
 *
 * Shared defaults it moves: the ttrpc socket follows the grpc one; the debug and metrics
 * sockets stay off; the CRI stream server takes a free port (`"0"`); runc's state goes to a
 * private `Root` instead of /run/containerd/runc; the opt plugin's dir moves under `dir`.
 */
export function renderContainerdConfig(
  paths: ContainerdPaths,
  runtimes: Readonly<Record<string, RuntimeHandler>>,
): string {
  const runtime = (binaryName: string | undefined) => ({
    runtime_type: "io.containerd.runc.v2",
    pod_annotations: ["flox.dev/*"],
    container_annotations: ["flox.dev/*"],
    options: { ...(binaryName === undefined ? {} : { BinaryName: binaryName }), Root: paths.runcRoot },
  });
  const handlers: Record<string, unknown> = { runc: runtime(undefined) };
  for (const [name, handler] of Object.entries(runtimes)) handlers[name] = runtime(handler.binaryName);
  return stringify({
    version: 2,
    root: paths.root,
    state: paths.state,
    grpc: { address: paths.socket },
    ttrpc: { address: `${paths.socket}.ttrpc` },
    debug: { address: "", level: "info" },
    metrics: { address: "" },
    // Snapshotters this machine cannot use only log errors at start; skip them.
    disabled_plugins: [
      "io.containerd.snapshotter.v1.aufs",
      "io.containerd.snapshotter.v1.btrfs",
      "io.containerd.snapshotter.v1.devmapper",
      "io.containerd.snapshotter.v1.zfs",
    ],
    plugins: {
      "io.containerd.internal.v1.opt": { path: join(paths.dir, "opt") },
      "io.containerd.grpc.v1.cri": {
        sandbox_image: PAUSE_IMAGE_REF,
        // Without CAP_SYS_RESOURCE runc cannot lower oom_score_adj below the parent's.
        restrict_oom_score_adj: true,
        stream_server_address: "127.0.0.1",
        stream_server_port: "0",
        enable_selinux: false,
        cni: { conf_dir: paths.cniConfDir, bin_dir: paths.cniBinDir, max_conf_num: 1 },
        containerd: {
          snapshotter: "overlayfs",
          default_runtime_name: "runc",
          runtimes: handlers,
        },
      },
    },
  });
}
