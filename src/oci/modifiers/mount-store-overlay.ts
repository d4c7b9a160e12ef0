import { ImagelessError } from "../../errors/imageless-error.js";
import type { OciMount, SpecModifier } from "../spec.js";
import { NIX_MOUNT_POINT, replaceMount } from "./mount-store.js";

/** The directories of a writable `/nix` (SPEC §6, `flox.dev/nix-mutable: "true"`). */
export interface StoreOverlayDirs {
  /** The node's `<storeRoot>/nix`; overlayfs only reads it. */
  readonly lower: string;
  /** The container's private layer; every write lands here. */
  readonly upper: string;
  /** overlayfs scratch space, empty, on the same file system as `upper`. */
  readonly work: string;
}

/**
 * Mounts `/nix` as an overlay: the node store as the read-only lower layer and a per-container
 * upper layer, so the container may write to `/nix` (e.g. `nix profile install`) while the node's
 * store is never written. Replaces an earlier `/nix` mount, so applying it twice changes nothing.
 *
 * @throws {ImagelessError} `invalid-input` for a directory whose path overlayfs cannot take in its
 *   options (a `,` separates options and a `:` separates lower layers).
 * @example
 * mountStoreOverlay({ lower: "/nix", upper: "/var/lib/imageless/overlay/abc/upper", work: "/var/lib/imageless/overlay/abc/work" });
 */
export function mountStoreOverlay(dirs: StoreOverlayDirs): SpecModifier {
  for (const [role, dir] of Object.entries(dirs)) {
    if (/[,:]/.test(dir)) {
      throw new ImagelessError(
        "invalid-input",
        `nix-mutable overlay: ${role} directory "${dir}" contains "," or ":", which overlayfs options cannot hold: use a state-dir and store-root without them`,
      );
    }
  }
  const mount: OciMount = {
    destination: NIX_MOUNT_POINT,
    // runc passes "source" and the non-flag options to mount(2) as they are; "overlay" is the
    // conventional source name (it shows in /proc/mounts).
    type: "overlay",
    source: "overlay",
    options: [`lowerdir=${dirs.lower}`, `upperdir=${dirs.upper}`, `workdir=${dirs.work}`, "nosuid", "nodev"],
  };
  return (spec) => ({ ...spec, mounts: replaceMount(spec.mounts ?? [], mount) });
}
