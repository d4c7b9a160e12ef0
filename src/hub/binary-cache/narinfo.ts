/**
 * The `.narinfo` text format of Nix binary caches (pure): parse what `nix copy` uploads, compute the
 * fingerprint a signature covers, and write it back with the hub's signature.
 */
import { ImagelessError } from "../../errors/imageless-error.js";
import { isStorePath, type StorePath } from "../../nix/store-path.js";
import { isNixSha256 } from "./nix-base32.js";

/** A parsed narinfo. */
export interface NarInfo {
  readonly storePath: StorePath;
  /** Relative to the cache root, `nar/<file-hash>.nar.<ext>`. */
  readonly url: string;
  readonly narHash: string;
  readonly narSize: number;
  /** `FileHash`, when given (`sha256:<base-32>` of the compressed file). */
  readonly fileHash?: string;
  /** Store path base names (`<hash>-<name>`), as the file lists them. */
  readonly references: readonly string[];
  /** `Sig:` values (`<key-name>:<base64>`). */
  readonly signatures: readonly string[];
  /** Every line as key/value pairs in file order, `Sig` included (written back unchanged). */
  readonly fields: readonly (readonly [string, string])[];
}

const NAR_URL = /^nar\/[0-9a-z]+\.nar(\.(xz|zst|bz2|br|gz|lz4|lzip))?$/;
const REFERENCE = /^[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+\-._?=]+$/;

/**
 * Parses a narinfo and checks the fields a signature and a download depend on.
 *
 * @param source names the input in errors, e.g. `uploaded abc….narinfo`.
 * @throws {ImagelessError} `invalid-input` naming the field, its value and what is accepted.
 * @example
 * parseNarInfo("StorePath: /nix/store/…-hello\nURL: nar/1b8m….nar.zst\nNarHash: sha256:…\nNarSize: 120\nReferences: \n", "x");
 */
export function parseNarInfo(text: string, source: string): NarInfo {
  const fields: [string, string][] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const colon = line.indexOf(": ");
    const key = colon > 0 ? line.slice(0, colon) : line.endsWith(":") ? line.slice(0, -1) : "";
    if (!/^[A-Za-z]+$/.test(key)) {
      throw new ImagelessError(
        "invalid-input",
        `${source}: line ${JSON.stringify(line.slice(0, 80))} is not "Key: value"`,
      );
    }
    fields.push([key, colon > 0 ? line.slice(colon + 2) : ""]);
  }
  const one = (key: string): string | undefined => fields.find(([k]) => k === key)?.[1];
  const required = (key: string): string => {
    const value = one(key);
    if (value === undefined) throw new ImagelessError("invalid-input", `${source}: ${key} is missing`);
    return value;
  };
  const storePath = required("StorePath");
  if (!isStorePath(storePath)) throw bad(source, "StorePath", storePath, "a /nix/store/<hash>-<name> path");
  const url = required("URL");
  if (!NAR_URL.test(url)) throw bad(source, "URL", url, "nar/<hash>.nar[.xz|.zst|…]");
  const narHash = required("NarHash");
  if (!isNixSha256(narHash)) throw bad(source, "NarHash", narHash, "sha256:<52 Nix base-32 characters>");
  const narSizeText = required("NarSize");
  const narSize = Number(narSizeText);
  if (!/^[0-9]+$/.test(narSizeText) || !Number.isSafeInteger(narSize)) {
    throw bad(source, "NarSize", narSizeText, "a byte count");
  }
  const fileHash = one("FileHash");
  if (fileHash !== undefined && !isNixSha256(fileHash)) {
    throw bad(source, "FileHash", fileHash, "sha256:<52 Nix base-32 characters>");
  }
  const references = (one("References") ?? "").split(" ").filter((r) => r !== "");
  const wrong = references.find((r) => !REFERENCE.test(r));
  if (wrong !== undefined) throw bad(source, "References", wrong, "store path base names <hash>-<name>");
  return Object.freeze({
    storePath,
    url,
    narHash,
    narSize,
    ...(fileHash === undefined ? {} : { fileHash }),
    references: Object.freeze(references),
    signatures: Object.freeze(fields.filter(([k]) => k === "Sig").map(([, v]) => v)),
    fields: Object.freeze(fields),
  });
}

/**
 * The text a narinfo signature signs, as Nix computes it:
 * `1;<store path>;<nar hash>;<nar size>;<references as full paths, comma-separated>`.
 */
export function narInfoFingerprint(info: NarInfo): string {
  const references = info.references.map((name) => `/nix/store/${name}`).join(",");
  return `1;${info.storePath};${info.narHash};${info.narSize};${references}`;
}

/** The narinfo text with every `Sig:` line replaced by `signature` (pure). */
export function formatSignedNarInfo(info: NarInfo, signature: string): string {
  const lines = info.fields.filter(([key]) => key !== "Sig").map(([key, value]) => `${key}: ${value}`);
  return `${[...lines, `Sig: ${signature}`].join("\n")}\n`;
}

/**
 * The narinfo with `FileHash` and `FileSize` set to what the hub measured of the stored file (pure):
 * the fields the signature does not cover, so what nodes read about the file is the hub's word.
 */
export function withFileFacts(info: NarInfo, file: { fileHash: string; fileSize: number }): NarInfo {
  const replaced = new Map([
    ["FileHash", file.fileHash],
    ["FileSize", String(file.fileSize)],
  ]);
  const fields: [string, string][] = info.fields
    .filter(([key]) => !replaced.has(key))
    .map(([key, value]): [string, string] => [key, value]);
  const at = Math.max(
    0,
    fields.findIndex(([key]) => key === "NarHash"),
  );
  fields.splice(at, 0, ...replaced);
  return Object.freeze({ ...info, fileHash: file.fileHash, fields: Object.freeze(fields) });
}

/** The hash part of a store path or base name (the 32 characters before the first `-`). */
export function hashPart(pathOrName: string): string {
  const name = pathOrName.startsWith("/nix/store/") ? pathOrName.slice("/nix/store/".length) : pathOrName;
  return name.slice(0, 32);
}

function bad(source: string, key: string, value: string, accepted: string): ImagelessError {
  return new ImagelessError(
    "invalid-input",
    `${source}: ${key} ${JSON.stringify(value.slice(0, 120))} is not accepted: expected ${accepted}`,
  );
}
