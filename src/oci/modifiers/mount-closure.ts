import { posix } from "node:path";
import type { OciMount, SpecModifier } from "../spec.js";
import { NIX_MOUNT_POINT, replaceMount } from "./mount-store.js";

/** What {@link mountClosure} mounts. */
export interface ClosureMount {
  /**
   * A node directory holding `store/<name>/` (empty) for every path of the closure and nothing else:
   * mounted at `/nix`, it gives each path a mount point and the container an exact listing.
   */
  readonly skeleton: string;
  /** The closure: every store path the container may see, `/nix/store/<hash>-<name>`. */
  readonly paths: readonly string[];
  /** Where a store path's files are on the node (`<storeRoot>/nix/store/…`). */
  readonly hostPath: (storePath: string) => string;
  /** `nix-mutable`: `/nix` is an overlay on the skeleton with these private layers. */
  readonly overlay?: { readonly upper: string; readonly work: string };
}

/**
 * Mounts only the environment's closure under `/nix/store` (SPEC §6, `[runtime] mount = "closure"`):
 * `/nix` is the skeleton (read-only, or a private overlay on it for `nix-mutable`), and each closure
 * path is a read-only bind of the node's copy over its mount point. Other environments' paths and
 * `/nix/var` (the node's Nix database) are not in the container at all. Replaces an earlier `/nix`
 * mount and earlier `/nix/store/…` binds, so applying it twice changes nothing.
 */
export function mountClosure(closure: ClosureMount): SpecModifier {
  const nix: OciMount =
    closure.overlay === undefined
      ? {
          destination: NIX_MOUNT_POINT,
          type: "bind",
          source: closure.skeleton,
          options: ["rbind", "ro", "nosuid", "nodev"],
        }
      : {
          destination: NIX_MOUNT_POINT,
          type: "overlay",
          source: "overlay",
          options: [
            `lowerdir=${closure.skeleton}`,
            `upperdir=${closure.overlay.upper}`,
            `workdir=${closure.overlay.work}`,
            "nosuid",
            "nodev",
          ],
        };
  const binds: OciMount[] = [...closure.paths].sort().map((path) => ({
    destination: path,
    type: "bind",
    source: closure.hostPath(path),
    // A store path holds no mounts of its own: a plain bind is enough and cheaper than rbind.
    options: ["bind", "ro", "nosuid", "nodev"],
  }));
  return (spec) => {
    const others = (spec.mounts ?? []).filter((mount) => !isUnderStore(mount.destination));
    // /nix first, then the binds over its mount points (runc mounts in order).
    return { ...spec, mounts: [...replaceMount(others, nix), ...binds] };
  };
}

function isUnderStore(destination: string): boolean {
  return posix.normalize(destination).startsWith("/nix/store/");
}
