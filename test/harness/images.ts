/**
 * Test images built from the host's static busybox: no registry, no network.
 */
import { readFileSync } from "node:fs";
import { buildOciLayout } from "../../src/image/oci-layout.js";
import { type TarEntry, writeTar } from "../../src/image/tar.js";

/** The ref containerd's `sandbox_image` is set to in the harness config. */
export const PAUSE_IMAGE_REF = "localhost/pause:test";
/** The default ref of {@link buildBusyboxImage}. */
export const BUSYBOX_IMAGE_REF = "localhost/busybox:test";

/** Applets linked in /bin. */
const APPLETS = ["sh", "sleep", "echo", "cat", "env", "ls"] as const;

/** Debian's busybox-static; it needs no libraries inside the image. */
const BUSYBOX = "/bin/busybox";

/**
 * An OCI image-layout tarball with /bin/busybox and its applet links, whose entrypoint sleeps
 * forever: usable as the pause image and as a plain app image (give it a command).
 *
 * @example
 * await containerd.importImage(buildBusyboxImage());
 */
export function buildBusyboxImage(ref: string = BUSYBOX_IMAGE_REF): Buffer {
  const entries: TarEntry[] = [
    { type: "dir", path: "bin" },
    { type: "file", path: "bin/busybox", mode: 0o755, content: readFileSync(BUSYBOX) },
    ...APPLETS.map((name): TarEntry => ({ type: "symlink", path: `bin/${name}`, linkname: "busybox" })),
    { type: "dir", path: "tmp", mode: 0o1777 },
  ];
  return buildOciLayout({
    ref,
    layers: [writeTar(entries)],
    config: {
      entrypoint: [`${BUSYBOX}`, "sleep", "2147483647"],
      env: ["PATH=/bin"],
    },
  });
}
