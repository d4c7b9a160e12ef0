import type { SpecModifier } from "../spec.js";
import { replaceMount } from "./mount-store.js";

/** Where $FLOX_ENV_CACHE is inside a Flox container. */
export const ENV_CACHE_MOUNT_POINT = "/var/cache/flox";
/** The directory of the env cache where a container's activation is recorded (for exec). */
export const ACTIVATION_RECORD_DIR = ".imageless";
/** The record itself, as the container sees it (see `activationFiles`). */
export const ACTIVATION_RECORD = `${ENV_CACHE_MOUNT_POINT}/${ACTIVATION_RECORD_DIR}/activation`;

/**
 * Mounts a writable per-container directory of the node at {@link ENV_CACHE_MOUNT_POINT}, so
 * `$FLOX_ENV_CACHE` works even when the image's root filesystem is read-only.
 */
export function mountEnvCache(hostDir: string): SpecModifier {
  return (spec) => ({
    ...spec,
    mounts: replaceMount(spec.mounts ?? [], {
      destination: ENV_CACHE_MOUNT_POINT,
      type: "bind",
      source: hostDir,
      options: ["rbind", "rw", "nosuid", "nodev"],
    }),
  });
}
