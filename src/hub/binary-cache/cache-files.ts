/**
 * The cache's files under `<dataDir>/cache`: `<hash>.narinfo` and `nar/<file-hash>.nar.<ext>`, each
 * written once (to a temporary name, then renamed), so a reader sees a whole file or none.
 */
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { access, link, mkdir, readdir, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ImagelessError } from "../../errors/imageless-error.js";
import { toNixBase32 } from "./nix-base32.js";

/** `<hash>.narinfo`: 32 Nix base-32 characters. */
export const NARINFO_FILE = /^([0-9a-df-np-sv-z]{32})\.narinfo$/;
/** `<file-hash>.nar[.ext]`, named by the Nix base-32 sha256 of its bytes. */
export const NAR_FILE = /^([0-9a-df-np-sv-z]{52})\.nar(\.(xz|zst|bz2|br|gz|lz4|lzip))?$/;

/** `<dataDir>/cache` */
export function cacheDir(dataDir: string): string {
  return join(dataDir, "cache");
}

/** The path of `nar/<file>`. */
export function narPath(dataDir: string, file: string): string {
  return join(cacheDir(dataDir), "nar", file);
}

/** The text of `<hash>.narinfo`, or undefined when the cache has none. */
export async function readNarInfoText(dataDir: string, hash: string): Promise<string | undefined> {
  return readFile(join(cacheDir(dataDir), `${hash}.narinfo`), "utf8").catch(() => undefined);
}

/** True when `nar/<file>` exists. */
export async function hasNar(dataDir: string, file: string): Promise<boolean> {
  return access(narPath(dataDir, file)).then(
    () => true,
    () => false,
  );
}

/** Every narinfo of the cache, as hash and text. */
export async function readAllNarInfos(dataDir: string): Promise<{ hash: string; text: string }[]> {
  const names = await readdir(cacheDir(dataDir)).catch(() => [] as string[]);
  const found: { hash: string; text: string }[] = [];
  for (const name of names) {
    const hash = NARINFO_FILE.exec(name)?.[1];
    if (hash === undefined) continue;
    const text = await readNarInfoText(dataDir, hash);
    if (text !== undefined) found.push({ hash, text });
  }
  return found;
}

/**
 * Writes `<hash>.narinfo` unless one exists: the first upload of a path wins, so a later upload
 * cannot replace what nodes already trust. Returns false when it existed.
 */
export async function writeNarInfoOnce(dataDir: string, hash: string, text: string): Promise<boolean> {
  const dir = cacheDir(dataDir);
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.${hash}.${randomBytes(6).toString("hex")}.tmp`);
  await writeFile(temp, text);
  try {
    await link(temp, join(dir, `${hash}.narinfo`));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    await unlink(temp);
  }
}

/**
 * Streams an uploaded nar file into `nar/<file>`, checking that its bytes hash to the name (nar files
 * are content-addressed, so one that exists already is the same file).
 *
 * @throws {ImagelessError} `invalid-input` when the bytes do not match the name.
 */
export async function storeNar(dataDir: string, file: string, body: Readable): Promise<void> {
  const expected = NAR_FILE.exec(file)?.[1];
  if (expected === undefined)
    throw new ImagelessError("invalid-input", `nar file name "${file}" is not <hash>.nar[.ext]`);
  const dir = join(cacheDir(dataDir), "nar");
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.${randomBytes(6).toString("hex")}.tmp`);
  const hash = createHash("sha256");
  body.on("data", (chunk: Buffer) => hash.update(chunk));
  try {
    await pipeline(body, createWriteStream(temp));
    const actual = toNixBase32(hash.digest());
    if (actual !== expected) {
      throw new ImagelessError(
        "invalid-input",
        `nar file "${file}": its content hashes to sha256:${actual}, not to the hash in its name`,
      );
    }
    await rename(temp, narPath(dataDir, file));
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}
