/**
 * A private image registry for benchmarks and tests: Debian's `docker-registry` (distribution 2.8)
 * serving a temp storage dir on a free loopback port with a config written here (no auth, plain
 * HTTP), stopped by PID; and a small client that pushes an image over the registry HTTP API (blob
 * upload POST + PUT, manifest PUT), layers gzip-compressed as `docker build` + `docker push` send them.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import { type ImageRunConfig, MediaType, ociArchitecture, sha256Digest } from "../../src/image/oci-layout.js";
import { stopChild } from "./stop-child.js";
import { makeTempDir, removeTree } from "./temp.js";

const gzipAsync = promisify(gzip);

/** The media type of a gzip-compressed layer (what `docker push` of a default build sends). */
export const GZIP_LAYER = `${MediaType.layer}+gzip`;

/** A running registry. */
export interface Registry {
  /** `127.0.0.1:<port>`: the host part of image refs (`127.0.0.1:5000/bench/x:1`). */
  readonly host: string;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly pid: number;
  /** Where the registry keeps blobs and manifests. */
  readonly storage: string;
  /** Stops the process (SIGTERM, then SIGKILL) and removes its dir. Safe to call twice. */
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (bound and released: another process could take it meanwhile). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The registry's config: filesystem storage under `storage`, loopback only, no auth, deletes allowed. Pure. */
export function registryConfig(storage: string, port: number): string {
  return [
    "version: 0.1",
    "log:",
    "  level: warn",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${JSON.stringify(storage)}`,
    "  delete:",
    "    enabled: true",
    "http:",
    `  addr: 127.0.0.1:${port}`,
    "",
  ].join("\n");
}

/**
 * Starts `docker-registry serve` and waits until `GET /v2/` answers. Debian's systemd unit for the
 * package plays no part: this is a private process with its own config and storage.
 *
 * @example
 * const registry = await startRegistry();
 * try { await pushImage(registry.url, "bench/x", "1", { layers: [tar], config: {} }); } finally { await registry.stop(); }
 */
export async function startRegistry(): Promise<Registry> {
  const dir = await makeTempDir("registry");
  const storage = join(dir, "storage");
  const log = join(dir, "registry.log");
  let child: ChildProcess | undefined;
  const stop = async (): Promise<void> => {
    if (child !== undefined) await stopChild(child);
    child = undefined;
    await removeTree(dir);
  };
  try {
    const port = await freePort();
    const configFile = join(dir, "config.yml");
    await writeFile(configFile, registryConfig(storage, port));
    const fd = openSync(log, "a");
    child = spawn("docker-registry", ["serve", configFile], { stdio: ["ignore", fd, fd] });
    closeSync(fd);
    const started = child;
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (started.exitCode !== null)
        throw new Error(`docker-registry exited with status ${started.exitCode}`);
      const answer = await fetch(`${url}/v2/`).catch(() => undefined);
      if (answer?.status === 200) break;
      if (Date.now() > deadline) throw new Error(`docker-registry did not answer ${url}/v2/ within 20 s`);
      await sleep(100);
    }
    return { host: `127.0.0.1:${port}`, url, pid: started.pid ?? 0, storage, stop };
  } catch (error) {
    const text = await readFile(log, "utf8").catch(() => "");
    await stop();
    throw new Error(`cannot start docker-registry: ${(error as Error).message}\n${text}`, { cause: error });
  }
}

/** A layer as pushed: its gzip blob and the digest of the uncompressed tar (the config's diff_id). */
export interface CompressedLayer {
  readonly blob: Buffer;
  readonly diffId: string;
}

/** Compresses a layer tar as `docker push` does by default (gzip, level 6). */
export async function compressLayer(tar: Buffer): Promise<CompressedLayer> {
  return { blob: await gzipAsync(tar, { level: 6 }), diffId: sha256Digest(tar) };
}

/**
 * Pushes an image as `registryUrl/repository:tag`: each blob unless the registry has it (HEAD), then
 * the OCI manifest. Layers may be given already compressed, so images sharing a layer compress it once.
 * Returns the bytes of blobs uploaded.
 */
export async function pushImage(
  registryUrl: string,
  repository: string,
  tag: string,
  image: { layers: readonly CompressedLayer[]; config: ImageRunConfig },
): Promise<number> {
  const config = Buffer.from(
    JSON.stringify({
      architecture: ociArchitecture(process.arch),
      os: "linux",
      config: {
        ...(image.config.entrypoint === undefined ? {} : { Entrypoint: image.config.entrypoint }),
        ...(image.config.cmd === undefined ? {} : { Cmd: image.config.cmd }),
        ...(image.config.env === undefined ? {} : { Env: image.config.env }),
      },
      rootfs: { type: "layers", diff_ids: image.layers.map((layer) => layer.diffId) },
    }),
  );
  let uploaded = 0;
  for (const blob of [config, ...image.layers.map((layer) => layer.blob)]) {
    uploaded += await pushBlob(registryUrl, repository, blob);
  }
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.manifest,
    config: { mediaType: MediaType.config, digest: sha256Digest(config), size: config.length },
    layers: image.layers.map((layer) => ({
      mediaType: GZIP_LAYER,
      digest: sha256Digest(layer.blob),
      size: layer.blob.length,
    })),
  });
  const put = await fetch(`${registryUrl}/v2/${repository}/manifests/${tag}`, {
    method: "PUT",
    headers: { "content-type": MediaType.manifest },
    body: manifest,
  });
  if (put.status !== 201)
    throw new Error(`manifest PUT ${repository}:${tag}: HTTP ${put.status} ${await put.text()}`);
  return uploaded;
}

/** Uploads one blob monolithically (POST for an upload URL, PUT with the digest); 0 if already there. */
async function pushBlob(registryUrl: string, repository: string, blob: Buffer): Promise<number> {
  const digest = sha256Digest(blob);
  const head = await fetch(`${registryUrl}/v2/${repository}/blobs/${digest}`, { method: "HEAD" });
  if (head.status === 200) return 0;
  const post = await fetch(`${registryUrl}/v2/${repository}/blobs/uploads/`, { method: "POST" });
  const location = post.headers.get("location");
  await post.arrayBuffer();
  if (post.status !== 202 || location === null)
    throw new Error(`blob upload POST ${repository}: HTTP ${post.status}, location ${location ?? "none"}`);
  const target = new URL(location, registryUrl);
  target.searchParams.set("digest", digest);
  const put = await fetch(target, {
    method: "PUT",
    headers: { "content-type": "application/octet-stream", "content-length": String(blob.length) },
    body: blob,
  });
  if (put.status !== 201) throw new Error(`blob PUT ${digest}: HTTP ${put.status} ${await put.text()}`);
  return blob.length;
}
