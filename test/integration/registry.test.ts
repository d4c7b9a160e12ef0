/** The harness's registry: a private docker-registry process and the push client of test/harness/registry.ts. */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, it } from "node:test";
import { gunzipSync } from "node:zlib";
import { MediaType, sha256Digest } from "../../src/image/oci-layout.js";
import { writeTar } from "../../src/image/tar.js";
import { isAlive } from "../harness/containerd.js";
import { compressLayer, GZIP_LAYER, pushImage, type Registry, startRegistry } from "../harness/registry.js";

let registry: Registry;
before(async () => {
  registry = await startRegistry();
});
after(async () => {
  await registry.stop();
});

it("pushImage stores the manifest and gzip layers that a pull reads back", async () => {
  // Incompressible, so the layer's blob is far larger than an image config.
  const tar = writeTar([{ type: "file", path: "hello.txt", content: randomBytes(64 << 10) }]);
  const layer = await compressLayer(tar);
  const uploaded = await pushImage(registry.url, "test/hello", "1", {
    layers: [layer],
    config: { cmd: ["cat", "/hello.txt"] },
  });
  const manifest = (await (
    await fetch(`${registry.url}/v2/test/hello/manifests/1`, { headers: { accept: MediaType.manifest } })
  ).json()) as { layers: { mediaType: string; digest: string; size: number }[]; config: { digest: string } };
  assert.deepEqual(manifest.layers, [
    { mediaType: GZIP_LAYER, digest: sha256Digest(layer.blob), size: layer.blob.length },
  ]);
  const blob = Buffer.from(
    await (await fetch(`${registry.url}/v2/test/hello/blobs/${manifest.layers[0]?.digest}`)).arrayBuffer(),
  );
  assert.deepEqual(gunzipSync(blob), tar);
  const config = (await (
    await fetch(`${registry.url}/v2/test/hello/blobs/${manifest.config.digest}`)
  ).json()) as {
    config: unknown;
    rootfs: unknown;
  };
  assert.deepEqual(config.config, { Cmd: ["cat", "/hello.txt"] });
  assert.deepEqual(config.rootfs, { type: "layers", diff_ids: [sha256Digest(tar)] });
  assert.ok(uploaded > layer.blob.length, "the config and the layer were uploaded");
  // A second image with the same layer uploads only its config.
  const again = await pushImage(registry.url, "test/hello", "2", { layers: [layer], config: {} });
  assert.ok(again < layer.blob.length, `only the new config was uploaded (${again} bytes)`);
});

it("stop ends the registry process", async () => {
  const other = await startRegistry();
  await other.stop();
  assert.equal(isAlive(other.pid), false);
});
