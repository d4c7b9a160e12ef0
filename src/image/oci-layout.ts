/**
 * Builds an OCI image-layout tarball (what `ctr images import` reads) from uncompressed layer tars
 * and an image config. Pure: the same input gives the same bytes and digests.
 */
import { createHash } from "node:crypto";
import { ImagelessError } from "../errors/imageless-error.js";
import { type TarEntry, writeTar } from "./tar.js";

/** The parts of an OCI image config's `config` object this project sets. */
export interface ImageRunConfig {
  readonly entrypoint?: readonly string[];
  readonly cmd?: readonly string[];
  /** `KEY=value` strings, as in the OCI image config. */
  readonly env?: readonly string[];
  readonly workingDir?: string;
}

/** Input of {@link buildOciLayout}. */
export interface OciLayoutOptions {
  /** A full reference such as `localhost/imageless/empty:1.0.0`; a bare tag would be renamed by containerd. */
  readonly ref: string;
  /** Uncompressed layer tars, lowest first. */
  readonly layers: readonly Buffer[];
  readonly config: ImageRunConfig;
  /** OCI architecture name (`amd64`, `arm64`, …); defaults to this host's, which containerd requires to unpack. */
  readonly architecture?: string;
}

export const MediaType = {
  index: "application/vnd.oci.image.index.v1+json",
  manifest: "application/vnd.oci.image.manifest.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layer: "application/vnd.oci.image.layer.v1.tar",
} as const;

/** Node's `process.arch` names mapped to the GOARCH names OCI images use. */
const OCI_ARCH: Readonly<Record<string, string>> = {
  x64: "amd64",
  arm64: "arm64",
  arm: "arm",
  ia32: "386",
  ppc64: "ppc64le",
  s390x: "s390x",
  riscv64: "riscv64",
  loong64: "loong64",
};

/**
 * The OCI architecture name for a Node `process.arch` value.
 *
 * @throws {ImagelessError} `unsupported` for an architecture without an OCI name here.
 */
export function ociArchitecture(nodeArch: string): string {
  const name = OCI_ARCH[nodeArch];
  if (name === undefined) {
    throw new ImagelessError(
      "unsupported",
      `architecture ${JSON.stringify(nodeArch)}: has no OCI name: accepted are ${Object.keys(OCI_ARCH).join(", ")}`,
    );
  }
  return name;
}

/** `sha256:<hex>` of the bytes. */
export function sha256Digest(bytes: Buffer): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/**
 * An OCI image-layout tarball holding one image, named by `org.opencontainers.image.ref.name`.
 *
 * @example
 * const tar = buildOciLayout({ ref: "localhost/x:1", layers: [writeTar([])], config: { env: ["PATH=/bin"] } });
 * @throws {ImagelessError} `invalid-input` when `ref` has no registry host or tag/digest.
 */
export function buildOciLayout(opts: OciLayoutOptions): Buffer {
  checkRef(opts.ref);
  const layerDigests = opts.layers.map((layer) => sha256Digest(layer));
  const config = jsonBytes({
    architecture: opts.architecture ?? ociArchitecture(process.arch),
    os: "linux",
    config: runConfig(opts.config),
    rootfs: { type: "layers", diff_ids: layerDigests },
    history: opts.layers.map(() => ({ created_by: "imageless" })),
  });
  const manifest = jsonBytes({
    schemaVersion: 2,
    mediaType: MediaType.manifest,
    config: descriptor(MediaType.config, config),
    layers: opts.layers.map((layer) => descriptor(MediaType.layer, layer)),
  });
  const index = jsonBytes({
    schemaVersion: 2,
    mediaType: MediaType.index,
    manifests: [
      {
        ...descriptor(MediaType.manifest, manifest),
        annotations: { "org.opencontainers.image.ref.name": opts.ref },
      },
    ],
  });
  const blobs = new Map<string, Buffer>();
  for (const blob of [config, manifest, ...opts.layers]) blobs.set(sha256Digest(blob).slice(7), blob);
  const entries: TarEntry[] = [
    { type: "file", path: "oci-layout", content: jsonBytes({ imageLayoutVersion: "1.0.0" }) },
    { type: "file", path: "index.json", content: index },
    { type: "dir", path: "blobs" },
    { type: "dir", path: "blobs/sha256" },
    ...[...blobs].map(([hex, content]): TarEntry => ({ type: "file", path: `blobs/sha256/${hex}`, content })),
  ];
  return writeTar(entries);
}

function runConfig(config: ImageRunConfig): Record<string, unknown> {
  // Absent keys stay absent: an image without Entrypoint must not get an empty one.
  const out: Record<string, unknown> = {};
  if (config.entrypoint !== undefined) out["Entrypoint"] = [...config.entrypoint];
  if (config.cmd !== undefined) out["Cmd"] = [...config.cmd];
  if (config.env !== undefined) out["Env"] = [...config.env];
  if (config.workingDir !== undefined) out["WorkingDir"] = config.workingDir;
  return out;
}

function descriptor(mediaType: string, bytes: Buffer): { mediaType: string; digest: string; size: number } {
  return { mediaType, digest: sha256Digest(bytes), size: bytes.length };
}

function jsonBytes(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), "utf8");
}

function checkRef(ref: string): void {
  // containerd renames a ref without a host part (import-YYYY-MM-DD:<tag>), so demand a full one.
  if (!/^[a-z0-9.-]+(:[0-9]+)?\/[a-z0-9._/-]+(:[A-Za-z0-9_.-]+|@sha256:[a-f0-9]{64})$/.test(ref)) {
    throw new ImagelessError(
      "invalid-input",
      `image ref ${JSON.stringify(ref)}: is not a full reference: accepted is host/name:tag, e.g. "localhost/imageless/empty:1.0.0"`,
    );
  }
}
