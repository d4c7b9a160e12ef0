import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ImagelessError } from "../errors/imageless-error.js";
import { buildEmptyImage, EMPTY_IMAGE_REF } from "./empty-image.js";
import { buildOciLayout, MediaType, ociArchitecture } from "./oci-layout.js";
import { writeTar } from "./tar.js";

function unpack(tar: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), "imageless-oci-"));
  writeFileSync(join(dir, "image.tar"), tar);
  execFileSync("tar", ["-xf", join(dir, "image.tar"), "-C", dir, "--no-same-owner"]);
  return dir;
}

function parseObject(text: string): Record<string, unknown> {
  const value: unknown = JSON.parse(text);
  assert.ok(typeof value === "object" && value !== null && !Array.isArray(value), "a JSON object");
  return Object.fromEntries(Object.entries(value));
}

function readJson(path: string): Record<string, unknown> {
  return parseObject(readFileSync(path, "utf8"));
}

function hex(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Checks every blob named in the layout exists and has the digest and size it is named by. */
function checkBlob(dir: string, desc: unknown): Buffer {
  assert.ok(typeof desc === "object" && desc !== null);
  const { digest, size } = desc as { digest: unknown; size: unknown };
  assert.ok(typeof digest === "string" && digest.startsWith("sha256:"));
  const bytes = readFileSync(join(dir, "blobs/sha256", digest.slice(7)));
  assert.equal(hex(bytes), digest.slice(7));
  assert.equal(bytes.length, size);
  return bytes;
}

test("buildOciLayout() writes a layout whose index, manifest, config and layers have correct digests", () => {
  const layer = writeTar([{ type: "file", path: "hello", content: "hi\n" }]);
  const dir = unpack(
    buildOciLayout({
      ref: "localhost/test/img:1",
      layers: [layer],
      config: { entrypoint: ["/hello"], env: ["A=b"], workingDir: "/" },
      architecture: "arm64",
    }),
  );
  try {
    assert.deepEqual(readJson(join(dir, "oci-layout")), { imageLayoutVersion: "1.0.0" });
    const index = readJson(join(dir, "index.json"));
    assert.equal(index["mediaType"], MediaType.index);
    const [entry] = index["manifests"] as unknown[];
    assert.deepEqual((entry as { annotations: unknown }).annotations, {
      "org.opencontainers.image.ref.name": "localhost/test/img:1",
    });
    const manifest = parseObject(checkBlob(dir, entry).toString("utf8"));
    assert.equal(manifest["mediaType"], MediaType.manifest);
    const config = parseObject(checkBlob(dir, manifest["config"]).toString("utf8"));
    const layers = manifest["layers"] as unknown[];
    assert.equal(layers.length, 1);
    assert.deepEqual(checkBlob(dir, layers[0]), layer);
    assert.equal(config["architecture"], "arm64");
    assert.equal(config["os"], "linux");
    assert.deepEqual(config["rootfs"], { type: "layers", diff_ids: [`sha256:${hex(layer)}`] });
    assert.deepEqual(config["config"], { Entrypoint: ["/hello"], Env: ["A=b"], WorkingDir: "/" });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("buildOciLayout() rejects a ref without a host with invalid-input", () => {
  for (const ref of ["busybox:1", "localhost/x", "Localhost/x:1"]) {
    assert.throws(
      () => buildOciLayout({ ref, layers: [], config: {} }),
      (e: unknown) => e instanceof ImagelessError && e.kind === "invalid-input" && e.message.includes(ref),
    );
  }
});

test("ociArchitecture() maps node names to OCI names and rejects unknown ones", () => {
  assert.equal(ociArchitecture("x64"), "amd64");
  assert.equal(ociArchitecture("arm64"), "arm64");
  assert.throws(
    () => ociArchitecture("mips"),
    (e: unknown) => e instanceof ImagelessError && e.kind === "unsupported",
  );
});

test("buildEmptyImage() has no entrypoint, a PATH and the product ref", () => {
  const dir = unpack(buildEmptyImage("amd64"));
  try {
    const index = readJson(join(dir, "index.json"));
    const [entry] = index["manifests"] as unknown[];
    assert.equal(
      (entry as { annotations: Record<string, string> }).annotations["org.opencontainers.image.ref.name"],
      EMPTY_IMAGE_REF,
    );
    const manifest = parseObject(checkBlob(dir, entry).toString("utf8"));
    const config = parseObject(checkBlob(dir, manifest["config"]).toString("utf8"));
    const run = config["config"] as Record<string, unknown>;
    assert.equal(run["Entrypoint"], undefined);
    assert.ok((run["Env"] as string[]).some((e) => e.startsWith("PATH=/")));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
