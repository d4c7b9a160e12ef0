import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { ImagelessError } from "../errors/imageless-error.js";
import { writeFileAtomic } from "../fs/atomic-write.js";
import type { OciProcess, OciSpec } from "./spec.js";

/**
 * Reads `<bundle>/config.json`. Unknown fields are kept: the spec is only ever edited, never rebuilt.
 * Read synchronously, as the exec process file below: a few KB from tmpfs cost µs, an awaited read
 * a thread-pool round trip (see writeFileAtomic's non-durable write).
 */
export async function readSpec(bundle: string): Promise<OciSpec> {
  return parseJsonObject(
    readFileSync(join(bundle, "config.json"), "utf8"),
    `${bundle}/config.json`,
  ) as OciSpec;
}

/**
 * Replaces `<bundle>/config.json` atomically, so runc never reads a half-written spec. Not fsync'd: the
 * bundle does not survive a reboot (containerd's state dir is a tmpfs), and runc reads it right away.
 */
export async function writeSpec(bundle: string, spec: OciSpec): Promise<void> {
  await writeFileAtomic(join(bundle, "config.json"), JSON.stringify(spec), 0o644, { durable: false });
}

/** Reads an exec `--process` file (an OCI process object). */
export async function readProcess(path: string): Promise<OciProcess> {
  return parseJsonObject(readFileSync(path, "utf8"), path) as OciProcess;
}

/**
 * Rewrites an exec `--process` file in place: one write at offset 0, then the length set. Not a temp
 * file and a rename: on ext4 a rename over an existing file (and an O_TRUNC open) makes the kernel
 * allocate and start writing back the new file's blocks at once (auto_da_alloc), which cost ~0.6 ms
 * of every exec's ~1 ms of agent work where containerd's state is on disk (bench/README.md, "Exec").
 * Nothing else reads the file meanwhile: the shim wrote it and runs runc on it after this call. The
 * set length drops what a longer old text leaves behind. Not atomic against a kill mid-write (a torn
 * file fails that one exec, also in the client's in-process fallback); not fsync'd: the shim deletes
 * it after the exec.
 */
export async function writeProcess(path: string, process: OciProcess): Promise<void> {
  const data = Buffer.from(JSON.stringify(process), "utf8");
  const fd = openSync(path, "r+");
  try {
    let written = 0;
    while (written < data.length) written += writeSync(fd, data, written, data.length - written, written);
    ftruncateSync(fd, data.length);
  } finally {
    closeSync(fd);
  }
}

// The OCI types are structural and keep unknown keys, so an object check is the whole validation
// this layer owns; each reader of a field checks its type where it uses it.
function parseJsonObject(text: string, source: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ImagelessError("internal", `${source} is not valid JSON`, { cause: error });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ImagelessError("internal", `${source} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}
