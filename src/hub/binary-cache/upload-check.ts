/**
 * Whether an uploaded narinfo may enter an owner's namespace (pure): the hub signs only what it has
 * checked against the bytes it holds, and a path enters a namespace once.
 */
import { hashPart, type NarInfo } from "./narinfo.js";

/** What the hub knows when it judges `<hash>.narinfo` uploaded into `owner`'s namespace. */
export interface UploadFacts {
  readonly owner: string;
  /** The hash part the narinfo was uploaded as (its file name). */
  readonly hash: string;
  readonly info: NarInfo;
  /** The namespace's narinfo for this path, when it has one. */
  readonly existing?: NarInfo;
  /**
   * The NAR file the narinfo names, measured by the hub; undefined when this namespace has not
   * uploaded it (a NAR another namespace uploaded is not usable without its bytes).
   */
  readonly nar?: {
    readonly fileHash: string;
    readonly fileSize: number;
    readonly narHash: string;
    readonly narSize: number;
  };
  /** True when the namespace holds the path with this hash part. */
  readonly inNamespace: (hash: string) => boolean;
}

/** The `Compression:` value Nix writes for each NAR file extension (nodes unpack by this field). */
const COMPRESSION_OF: Readonly<Record<string, string>> = {
  "": "none",
  zst: "zstd",
  xz: "xz",
  gz: "gzip",
  br: "br",
  bz2: "bzip2",
  lz4: "lz4",
  lzip: "lzip",
};

/** The verdict: store it, it is already there unchanged, or refuse (400 bad input, 409 conflict). */
export type UploadVerdict =
  | { readonly kind: "store" }
  | { readonly kind: "identical" }
  | { readonly kind: "invalid"; readonly message: string }
  | { readonly kind: "conflict"; readonly message: string };

/**
 * Judges one narinfo upload. A second upload of a path the namespace has is `identical` when it
 * describes the same NAR (NarHash, NarSize, references), else a `conflict`; a new one is stored
 * only when its NarHash, NarSize and FileHash match the NAR the hub holds and every reference is the
 * path itself or already in the namespace.
 *
 * @example
 * judgeUpload({ owner: "acme", hash, info, inNamespace: () => false });
 * // { kind: "invalid", message: "…: nar/1b8m….nar.zst has not been uploaded to acme's cache: upload the nar first" }
 */
export function judgeUpload(facts: UploadFacts): UploadVerdict {
  const { info, owner } = facts;
  const where = `${info.storePath} in ${owner}'s cache`;
  if (hashPart(info.storePath) !== facts.hash) {
    return invalid(`${facts.hash}.narinfo: StorePath ${info.storePath} belongs to another name`);
  }
  if (facts.existing !== undefined) {
    if (sameContent(facts.existing, info)) return { kind: "identical" };
    return {
      kind: "conflict",
      message: `${where} exists with different content (NarHash ${facts.existing.narHash}, this upload ${info.narHash}): a path is uploaded once per namespace`,
    };
  }
  const nar = facts.nar;
  if (nar === undefined) {
    return invalid(`${where}: ${info.url} has not been uploaded to ${owner}'s cache: upload the nar first`);
  }
  const compression = info.fields.find(([key]) => key === "Compression")?.[1];
  const expected = COMPRESSION_OF[/\.nar(?:\.([a-z0-9]+))?$/.exec(info.url)?.[1] ?? ""];
  if (compression !== undefined && compression !== expected) {
    return invalid(
      `${where}: Compression ${compression} does not match ${info.url} (${expected ?? "unknown"})`,
    );
  }
  if (info.fileHash !== undefined && info.fileHash !== nar.fileHash) {
    return invalid(`${where}: FileHash ${info.fileHash} does not match ${info.url} (${nar.fileHash})`);
  }
  const fileSize = info.fields.find(([key]) => key === "FileSize")?.[1];
  if (fileSize !== undefined && fileSize !== String(nar.fileSize)) {
    return invalid(`${where}: FileSize ${fileSize} does not match ${info.url} (${nar.fileSize} bytes)`);
  }
  if (info.narSize !== nar.narSize) {
    return invalid(`${where}: NarSize ${info.narSize} does not match the uploaded NAR (${nar.narSize})`);
  }
  if (info.narHash !== nar.narHash) {
    return invalid(`${where}: NarHash ${info.narHash} does not match the uploaded NAR (${nar.narHash})`);
  }
  const missing = info.references.find(
    (reference) => hashPart(reference) !== facts.hash && !facts.inNamespace(hashPart(reference)),
  );
  if (missing !== undefined) {
    return invalid(
      `${where}: its reference /nix/store/${missing} is not in ${owner}'s cache: upload it first (nix copy uploads a closure in order)`,
    );
  }
  return { kind: "store" };
}

/** Two narinfos of one path describe the same NAR (compression may differ). */
export function sameContent(a: NarInfo, b: NarInfo): boolean {
  return (
    a.storePath === b.storePath &&
    a.narHash === b.narHash &&
    a.narSize === b.narSize &&
    [...a.references].sort().join(" ") === [...b.references].sort().join(" ")
  );
}

function invalid(message: string): UploadVerdict {
  return { kind: "invalid", message };
}
