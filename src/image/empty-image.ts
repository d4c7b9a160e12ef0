/**
 * The product's empty image: what a Flox pod names as its container image. It holds no files;
 * the runc wrapper mounts the environment and sets the command.
 */
import { buildOciLayout } from "./oci-layout.js";
import { writeTar } from "./tar.js";

/** The reference the empty image is imported under. */
export const EMPTY_IMAGE_REF = "localhost/imageless/empty:1.0.0";

/** PATH for a process that does not run inside an environment (e.g. a skipped container). */
export const EMPTY_IMAGE_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * The empty image as an OCI image-layout tarball for `ctr images import`: one empty layer (an
 * archive of two zero blocks), no entrypoint, a default PATH.
 *
 * containerd 1.6.20 also imports and runs an image with zero layers (tried), but image-spec 1.0
 * asks for a base layer and registries differ on empty layer lists; one 1 KiB layer is safe.
 *
 * @example
 * await writeFile("empty.tar", buildEmptyImage());
 */
export function buildEmptyImage(architecture?: string): Buffer {
  return buildOciLayout({
    ref: EMPTY_IMAGE_REF,
    layers: [writeTar([])],
    config: { env: [EMPTY_IMAGE_PATH] },
    ...(architecture === undefined ? {} : { architecture }),
  });
}
