/**
 * A minimal, deterministic ustar writer: enough to build OCI image layers and image-layout
 * tarballs without a dependency. Every entry gets uid/gid 0 and mtime 0, so the same input
 * always yields the same bytes (and the same layer digest).
 */
import { ImagelessError } from "../errors/imageless-error.js";

/** One entry of a tar archive. Paths are relative (`bin/sh`, not `/bin/sh`); dirs need no trailing slash. */
export type TarEntry =
  | {
      readonly type: "file";
      readonly path: string;
      readonly mode?: number;
      readonly content: Buffer | string;
    }
  | { readonly type: "dir"; readonly path: string; readonly mode?: number }
  | { readonly type: "symlink"; readonly path: string; readonly linkname: string };

const BLOCK = 512;

/**
 * Serialises entries, in the given order, into a POSIX ustar archive (ending with two zero blocks).
 *
 * @example
 * const layer = writeTar([{ type: "dir", path: "bin" }, { type: "file", path: "bin/hi", mode: 0o755, content: "#!/bin/sh\n" }]);
 * @throws {ImagelessError} `invalid-input` when a path or link name does not fit the ustar fields.
 */
export function writeTar(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const content = entry.type === "file" ? toBuffer(entry.content) : Buffer.alloc(0);
    parts.push(header(entry, content.length));
    if (content.length > 0) {
      parts.push(content, Buffer.alloc(padding(content.length)));
    }
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

function toBuffer(content: Buffer | string): Buffer {
  return typeof content === "string" ? Buffer.from(content, "utf8") : content;
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

function header(entry: TarEntry, size: number): Buffer {
  const block = Buffer.alloc(BLOCK);
  const fullPath = normalisePath(entry.type === "dir" ? `${entry.path}/` : entry.path);
  const [prefix, name] = splitPath(fullPath);
  const mode = entry.type === "symlink" ? 0o777 : (entry.mode ?? (entry.type === "dir" ? 0o755 : 0o644));
  writeString(block, 0, 100, name);
  writeOctal(block, 100, 8, mode);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  writeOctal(block, 124, 12, size);
  writeOctal(block, 136, 12, 0);
  block.write(typeFlag(entry), 156, "ascii");
  if (entry.type === "symlink") {
    if (Buffer.byteLength(entry.linkname) > 100) {
      throw new ImagelessError(
        "invalid-input",
        `tar entry ${JSON.stringify(entry.path)}: cannot use link name ${JSON.stringify(entry.linkname)}: accepted are at most 100 bytes`,
      );
    }
    writeString(block, 157, 100, entry.linkname);
  }
  block.write("ustar\0", 257, "ascii");
  block.write("00", 263, "ascii");
  writeString(block, 265, 32, "root");
  writeString(block, 297, 32, "root");
  writeString(block, 345, 155, prefix);
  // The checksum is computed with its own field read as eight spaces.
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
  return block;
}

function typeFlag(entry: TarEntry): string {
  switch (entry.type) {
    case "file":
      return "0";
    case "dir":
      return "5";
    case "symlink":
      return "2";
  }
}

function normalisePath(path: string): string {
  const trimmed = path.replace(/^(\.\/|\/)+/, "");
  if (trimmed === "" || trimmed === "/" || trimmed.split("/").includes("..")) {
    throw new ImagelessError(
      "invalid-input",
      `tar entry: cannot use path ${JSON.stringify(path)}: accepted are relative paths without ".."`,
    );
  }
  return trimmed;
}

/** ustar keeps up to 100 bytes in `name` and 155 more in `prefix`, split at a slash. */
function splitPath(path: string): [string, string] {
  if (Buffer.byteLength(path) <= 100) return ["", path];
  const body = path.endsWith("/") ? path.slice(0, -1) : path;
  for (let i = body.lastIndexOf("/"); i > 0; i = body.lastIndexOf("/", i - 1)) {
    const prefix = body.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100) return [prefix, name];
  }
  throw new ImagelessError(
    "invalid-input",
    `tar entry: cannot use path ${JSON.stringify(path)}: accepted are paths that fit ustar's 155-byte prefix and 100-byte name`,
  );
}

function writeString(block: Buffer, offset: number, length: number, value: string): void {
  const bytes = Buffer.from(value, "utf8");
  bytes.copy(block, offset, 0, Math.min(bytes.length, length));
}

function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  const digits = value.toString(8).padStart(length - 1, "0");
  if (digits.length > length - 1) {
    throw new ImagelessError(
      "invalid-input",
      `tar entry: cannot store ${value}: accepted are values below 8^${length - 1}`,
    );
  }
  block.write(`${digits}\0`, offset, "ascii");
}
