/**
 * The NarHash and NarSize of a stored NAR file: its bytes unpacked (the only owner of the `zstd` and
 * `xz` programs in the hub; gzip and brotli come with Node) and hashed as they stream, never held in
 * memory. The unpacked size is bounded, so a small file that unpacks to terabytes is stopped early.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createBrotliDecompress, createGunzip } from "node:zlib";
import { ImagelessError } from "../../errors/imageless-error.js";
import { tooLarge } from "../hub-limits.js";
import { toNixBase32 } from "./nix-base32.js";

/** What a NAR file holds once unpacked. */
export interface UnpackedNar {
  /** `sha256:<Nix base-32>` of the unpacked NAR. */
  readonly narHash: string;
  readonly narSize: number;
}

/** File extensions the hub can unpack (nix copy's `?compression=` values zstd, xz, gzip, br, none). */
const PROGRAMS: Record<string, readonly string[]> = { zst: ["zstd", "-dcq"], xz: ["xz", "-dcq"] };

/**
 * Unpacks and hashes the NAR file at `path`, whose name ends in `.nar[.ext]`.
 *
 * @throws {ImagelessError} `invalid-input` for a compression the hub does not unpack or bytes that do
 *   not unpack; {@link TooLargeError} when the NAR is larger than `maxBytes`.
 * @example
 * await unpackNar("/data/cache/nar/1b8m….nar.zst", { maxBytes: 4 << 30, flag: "--max-nar" });
 */
export async function unpackNar(
  path: string,
  opts: { readonly maxBytes: number; readonly flag: string },
): Promise<UnpackedNar> {
  const extension = /\.nar(?:\.([a-z0-9]+))?$/.exec(path)?.[1] ?? "";
  const hash = createHash("sha256");
  let size = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      if (size > opts.maxBytes) {
        done(tooLarge("the unpacked NAR", undefined, opts.maxBytes, opts.flag));
        return;
      }
      hash.update(chunk);
      done();
    },
  });
  try {
    await streamUnpacked(path, extension, sink);
  } catch (error) {
    if (error instanceof ImagelessError) throw error;
    throw new ImagelessError("invalid-input", `the uploaded NAR file does not unpack as .${extension}`, {
      cause: error,
    });
  }
  return { narHash: `sha256:${toNixBase32(hash.digest())}`, narSize: size };
}

async function streamUnpacked(path: string, extension: string, sink: Writable): Promise<void> {
  if (extension === "") return pipeline(createReadStream(path), sink);
  if (extension === "gz") return pipeline(createReadStream(path), createGunzip(), sink);
  if (extension === "br") return pipeline(createReadStream(path), createBrotliDecompress(), sink);
  const program = PROGRAMS[extension];
  if (program === undefined) {
    throw new ImagelessError(
      "invalid-input",
      `NAR compression .${extension} is not accepted: upload with compression=zstd (or xz, gzip, br, none)`,
    );
  }
  const [command = "", ...args] = program;
  const file = await open(path, "r");
  try {
    // The file is the program's stdin directly: no bytes pass through this process on the way in.
    const child = spawn(command, args, { stdio: [file.fd, "pipe", "ignore"] });
    const exited = new Promise<number | null>((resolve, reject) => {
      child.on("error", (error) =>
        reject(new ImagelessError("internal", `cannot run ${command} to unpack a NAR: ${error.message}`)),
      );
      child.on("close", (code) => resolve(code));
    });
    const output = child.stdout;
    if (output === null) throw new ImagelessError("internal", `${command} has no output stream`);
    try {
      await pipeline(output, sink);
    } catch (error) {
      child.kill("SIGKILL");
      await exited.catch(() => undefined);
      throw error;
    }
    const code = await exited;
    if (code !== 0) throw new Error(`${command} exited ${code}`);
  } finally {
    await file.close();
  }
}
