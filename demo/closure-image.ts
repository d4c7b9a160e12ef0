/**
 * The yardstick the demo measures against: the same store paths an environment brings, packed as one
 * OCI image layer (`/nix/store/…` as files), which is what shipping them as an image would move.
 */
import { lstat, readdir, readFile, readlink } from "node:fs/promises";
import { join } from "node:path";
import { connectCri } from "../src/cri/cri-client.js";
import { buildOciLayout } from "../src/image/oci-layout.js";
import type { TarEntry } from "../src/image/tar.js";
import { writeTar } from "../src/image/tar.js";
import { type NixStore, realPath, storeArgs } from "../src/nix/nix-store.js";
import { runNix } from "../src/nix/run-nix.js";
import type { StorePath } from "../src/nix/store-path.js";
import { DEMO_DIR } from "../src/pod-runner/demo-paths.js";
import { findPod, removePod, runPodManifest } from "../src/pod-runner/run-pod.js";
import type { Containerd } from "../test/harness/containerd.js";
import type { DemoPackages } from "./build-packages.js";
import { say } from "./output.js";

export interface ClosureImage {
  readonly tar: Buffer;
  /** Bytes of file content in the layer. */
  readonly bytes: number;
  readonly paths: number;
}

/** One uncompressed layer tar holding the closure of `roots` as files under /nix/store. */
export async function closureLayer(
  store: NixStore,
  roots: readonly StorePath[],
): Promise<{ layer: Buffer; bytes: number; paths: number }> {
  const out = await runNix("nix-store", ["-qR", ...roots, ...storeArgs(store)], {
    action: "listing the closure to pack as an image",
  });
  const paths = out.split("\n").filter((line) => line !== "") as StorePath[];
  const entries: TarEntry[] = [
    { type: "dir", path: "nix" },
    { type: "dir", path: "nix/store" },
  ];
  let bytes = 0;
  async function walk(real: string, inLayer: string): Promise<void> {
    const stat = await lstat(real);
    if (stat.isSymbolicLink()) {
      entries.push({ type: "symlink", path: inLayer, linkname: await readlink(real) });
    } else if (stat.isDirectory()) {
      entries.push({ type: "dir", path: inLayer, mode: 0o555 });
      for (const name of (await readdir(real)).sort()) await walk(join(real, name), `${inLayer}/${name}`);
    } else {
      const content = await readFile(real);
      bytes += content.length;
      entries.push({ type: "file", path: inLayer, mode: stat.mode & 0o777, content });
    }
  }
  for (const path of paths) await walk(realPath(store, path), path.slice(1));
  return { layer: writeTar(entries), bytes, paths: paths.length };
}

/** An OCI layout tarball named `ref` whose one layer holds the closure of `roots`. */
export async function closureImage(
  store: NixStore,
  roots: readonly StorePath[],
  ref: string,
): Promise<ClosureImage> {
  const { layer, bytes, paths } = await closureLayer(store, roots);
  const tar = buildOciLayout({ ref, layers: [layer], config: { env: ["PATH=/bin"] } });
  return { tar, bytes, paths };
}

/** Packs the redis environment's closure as an image, imports it (timed) and starts it with runc (timed). */
export async function imageStart(
  containerd: Containerd,
  packages: DemoPackages,
): Promise<{ bytes: number; paths: number; importMs: number; startMs: number }> {
  const ref = "localhost/imageless-demo/redis-closure:1";
  const image = await closureImage(packages.store, [packages.redis, packages.tools], ref);
  const t0 = Date.now();
  await containerd.importImage(image.tar);
  const importMs = Date.now() - t0;
  const cri = connectCri(containerd.socket);
  try {
    const pod = {
      name: "image-compare",
      namespace: "default",
      labels: {},
      annotations: {},
      initContainers: [],
      volumes: [],
      containers: [
        {
          name: "app",
          image: ref,
          command: [`${packages.redis}/bin/redis-cli`, "--version"],
          args: [],
          env: [],
          volumeMounts: [],
        },
      ],
    };
    const started = await runPodManifest(cri, pod, { logDir: join(DEMO_DIR, "pod-logs"), secretDirs: {} });
    const found = await findPod(cri, pod.name, pod.namespace);
    if (found !== undefined) await removePod(cri, found);
    say(`    ${(image.bytes / 1e6).toFixed(1)} MB in ${image.paths} store paths`);
    return { bytes: image.bytes, paths: image.paths, importMs, startMs: started.totalMs };
  } finally {
    cri.close();
  }
}
