import type { OciMount, SpecModifier } from "../spec.js";

export const NIX_MOUNT_POINT = "/nix";

/**
 * Bind-mounts the node's `<storeRoot>/nix` at `/nix`, read-only (SPEC §6). `rbind` so a host store
 * with sub-mounts (e.g. a separate /nix/store filesystem) is complete; nosuid/nodev because nothing in
 * a store needs them. Replaces an earlier `/nix` mount, so applying it twice changes nothing.
 */
export function mountStore(nixDir: string): SpecModifier {
  const mount: OciMount = {
    destination: NIX_MOUNT_POINT,
    type: "bind",
    source: nixDir,
    options: ["rbind", "ro", "nosuid", "nodev"],
  };
  return (spec) => ({ ...spec, mounts: replaceMount(spec.mounts ?? [], mount) });
}

/** `mounts` with any mount at `mount.destination` replaced by `mount` (or `mount` appended). */
export function replaceMount(mounts: readonly OciMount[], mount: OciMount): OciMount[] {
  return [...mounts.filter((existing) => existing.destination !== mount.destination), mount];
}
