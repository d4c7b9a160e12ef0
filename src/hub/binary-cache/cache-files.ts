/**
 * The cache's files under `<dataDir>/cache`:
 * - `nar/<file-hash>.nar[.ext]`: NAR files shared by every namespace, named by the Nix base-32 sha256
 *   of their bytes (checked on upload), so one content is stored once however many owners upload it;
 * - `unpacked/<file>`: `<NarHash> <NarSize>` of a NAR file, written once the hub unpacked and hashed it;
 * - `owners/<owner>/<hash>.narinfo`: one namespace per owner, the narinfo as the hub signed it.
 * Every file is written to a temporary name and then renamed or linked, so a reader sees a whole
 * file or none.
 */
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import {
  access,
  link,
  mkdir,
  readdir,
  readFile,
  rename,
  stat,
  unlink,
  utimes,
  writeFile,
} from "node:fs/promises";
import { join } from "node:path";
import { type Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ImagelessError } from "../../errors/imageless-error.js";
import { tooLarge } from "../hub-limits.js";
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

/** The directory of `owner`'s namespace. */
export function namespaceDir(dataDir: string, owner: string): string {
  return join(cacheDir(dataDir), "owners", owner);
}

/** The text of `<hash>.narinfo` in `owner`'s namespace, or undefined when it has none. */
export async function readNarInfoText(
  dataDir: string,
  owner: string,
  hash: string,
): Promise<string | undefined> {
  return readFile(join(namespaceDir(dataDir, owner), `${hash}.narinfo`), "utf8").catch(() => undefined);
}

/** The byte size of `nar/<file>`, or undefined when it does not exist. */
export async function narFileSize(dataDir: string, file: string): Promise<number | undefined> {
  return stat(narPath(dataDir, file)).then(
    (s) => s.size,
    () => undefined,
  );
}

/** The owners that have a namespace directory. */
export async function listNamespaces(dataDir: string): Promise<string[]> {
  return readdir(join(cacheDir(dataDir), "owners")).catch(() => [] as string[]);
}

/** A stored narinfo: hash part, text and when it was written. */
export interface StoredNarInfo {
  readonly hash: string;
  readonly text: string;
  readonly mtimeMs: number;
}

/** Every narinfo of `owner`'s namespace. */
export async function readNamespace(dataDir: string, owner: string): Promise<StoredNarInfo[]> {
  const dir = namespaceDir(dataDir, owner);
  const names = await readdir(dir).catch(() => [] as string[]);
  const found: StoredNarInfo[] = [];
  for (const name of names) {
    const hash = NARINFO_FILE.exec(name)?.[1];
    if (hash === undefined) continue;
    const path = join(dir, name);
    const [text, info] = await Promise.all([
      readFile(path, "utf8").catch(() => undefined),
      stat(path).catch(() => undefined),
    ]);
    if (text !== undefined && info !== undefined) found.push({ hash, text, mtimeMs: info.mtimeMs });
  }
  return found;
}

/** A value that changes whenever a narinfo is added to or removed from `owner`'s namespace. */
export async function namespaceStamp(dataDir: string, owner: string): Promise<string> {
  const info = await stat(namespaceDir(dataDir, owner), { bigint: true }).catch(() => undefined);
  return info === undefined ? "none" : `${info.mtimeNs}:${info.size}`;
}

/**
 * Writes `<hash>.narinfo` into `owner`'s namespace unless one exists (a second upload never
 * replaces what nodes already trust). Returns false when it existed.
 */
export async function writeNarInfoOnce(
  dataDir: string,
  owner: string,
  hash: string,
  text: string,
): Promise<boolean> {
  const dir = namespaceDir(dataDir, owner);
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

/** What {@link storeNar} did with an upload. */
export interface StoredNar {
  readonly size: number;
  /** False when a NAR with these bytes was already stored (by any namespace): nothing was written. */
  readonly written: boolean;
}

/**
 * Streams an uploaded NAR file into `nar/<file>`, checking that its bytes hash to the name and that
 * it is at most `maxBytes`. When the same file is already stored the upload is still hashed, then
 * dropped, and the stored file's time is renewed (so `hub gc` keeps it while its narinfo is on the way).
 *
 * @throws {ImagelessError} `invalid-input` when the bytes do not match the name; {@link TooLargeError}
 *   over `maxBytes`.
 */
export async function storeNar(
  dataDir: string,
  file: string,
  body: Readable,
  opts: { readonly maxBytes: number; readonly flag: string },
): Promise<StoredNar> {
  const expected = NAR_FILE.exec(file)?.[1];
  if (expected === undefined)
    throw new ImagelessError("invalid-input", `nar file name "${file}" is not <hash>.nar[.ext]`);
  const dir = join(cacheDir(dataDir), "nar");
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.${randomBytes(6).toString("hex")}.tmp`);
  const hash = createHash("sha256");
  let size = 0;
  const count = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      if (size > opts.maxBytes) {
        done(tooLarge(`nar file "${file}"`, undefined, opts.maxBytes, opts.flag));
        return;
      }
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(body, count, createWriteStream(temp));
    const actual = toNixBase32(hash.digest());
    if (actual !== expected) {
      throw new ImagelessError(
        "invalid-input",
        `nar file "${file}": its content hashes to sha256:${actual}, not to the hash in its name`,
      );
    }
    const target = narPath(dataDir, file);
    if (await exists(target)) {
      const now = new Date();
      await utimes(target, now, now);
      return { size, written: false };
    }
    await rename(temp, target);
    return { size, written: true };
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/** The recorded `NarHash`/`NarSize` of the NAR inside `nar/<file>`, when the hub unpacked it before. */
export async function readUnpacked(
  dataDir: string,
  file: string,
): Promise<{ narHash: string; narSize: number } | undefined> {
  const text = await readFile(join(cacheDir(dataDir), "unpacked", file), "utf8").catch(() => undefined);
  const match = /^(sha256:[0-9a-z]{52}) ([0-9]+)$/.exec(text?.trim() ?? "");
  return match === null ? undefined : { narHash: match[1] ?? "", narSize: Number(match[2]) };
}

/** Records what unpacking `nar/<file>` gave, so the next namespace using it needs no second pass. */
export async function writeUnpacked(
  dataDir: string,
  file: string,
  facts: { narHash: string; narSize: number },
): Promise<void> {
  const dir = join(cacheDir(dataDir), "unpacked");
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.${randomBytes(6).toString("hex")}.tmp`);
  await writeFile(temp, `${facts.narHash} ${facts.narSize}\n`);
  await rename(temp, join(dir, file));
}

/** Every NAR file with its size and time (for `hub gc`). */
export async function listNars(dataDir: string): Promise<{ file: string; size: number; mtimeMs: number }[]> {
  const dir = join(cacheDir(dataDir), "nar");
  const names = await readdir(dir).catch(() => [] as string[]);
  const found: { file: string; size: number; mtimeMs: number }[] = [];
  for (const file of names) {
    if (!NAR_FILE.test(file)) continue;
    const info = await stat(join(dir, file)).catch(() => undefined);
    if (info !== undefined) found.push({ file, size: info.size, mtimeMs: info.mtimeMs });
  }
  return found;
}

/** Removes `nar/<file>` and its unpacked record. */
export async function removeNar(dataDir: string, file: string): Promise<void> {
  await unlink(narPath(dataDir, file)).catch(() => undefined);
  await unlink(join(cacheDir(dataDir), "unpacked", file)).catch(() => undefined);
}

/** Removes `<hash>.narinfo` from `owner`'s namespace. */
export async function removeNarInfo(dataDir: string, owner: string, hash: string): Promise<void> {
  await unlink(join(namespaceDir(dataDir, owner), `${hash}.narinfo`)).catch(() => undefined);
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
