/**
 * The output of `git cat-file --batch-command` (and `--batch`), parsed (pure). One record per request:
 *
 * - `contents <object>` → `<id> <type> <size>\n<size bytes>\n`
 * - `info <object>`     → `<id> <type> <size>\n`
 * - either, when git cannot find the object → `<object> missing\n` (or `<object> ambiguous\n`)
 *
 * Records are cut by the size in their header, never by newline: a blob may hold any bytes.
 */
import { ImagelessError } from "../errors/imageless-error.js";

export type ObjectType = "blob" | "tree" | "commit" | "tag";

/** What git answered to one request. */
export type BatchRecord =
  | {
      readonly kind: "object";
      readonly id: string;
      readonly type: ObjectType;
      readonly size: number;
      /** The object's bytes; absent for an `info` request. */
      readonly content?: Buffer;
    }
  | { readonly kind: "missing"; readonly name: string }
  | { readonly kind: "ambiguous"; readonly name: string };

/** Whether a request asked for the content (`contents`) or only the header (`info`). */
export type BatchRequestKind = "contents" | "info";

const FOUND = /^([0-9a-f]{40}|[0-9a-f]{64}) (blob|tree|commit|tag) (\d+)$/;

/**
 * The record starting at `offset` of `output` and where the next one starts; undefined when `output`
 * does not hold all of it yet (a stream still arriving).
 *
 * @throws {ImagelessError} `internal` for a line that is no record git writes.
 * @example
 * parseBatchRecord(Buffer.from("abc… blob 2\nhi\n"), 0, "contents"); // { record: {kind:"object",…}, next: 51 }
 */
export function parseBatchRecord(
  output: Buffer,
  offset: number,
  request: BatchRequestKind,
): { record: BatchRecord; next: number } | undefined {
  const eol = output.indexOf(0x0a, offset);
  if (eol < 0) return undefined;
  const header = output.subarray(offset, eol).toString("utf8");
  const found = FOUND.exec(header);
  if (found !== null) {
    const size = Number(found[3]);
    const base = { kind: "object" as const, id: found[1] ?? "", type: found[2] as ObjectType, size };
    if (request === "info") return { record: base, next: eol + 1 };
    const end = eol + 1 + size;
    if (output.length < end + 1) return undefined; // content and its trailing newline not all here yet
    return { record: { ...base, content: output.subarray(eol + 1, end) }, next: end + 1 };
  }
  // The requested name comes first and may itself contain spaces: the verdict is the last word.
  for (const kind of ["missing", "ambiguous"] as const) {
    if (header.endsWith(` ${kind}`)) {
      return { record: { kind, name: header.slice(0, -kind.length - 1) }, next: eol + 1 };
    }
  }
  throw new ImagelessError("internal", `git cat-file: unexpected output line "${header.slice(0, 200)}"`);
}

/**
 * The records of a complete output for `requests`, in order.
 *
 * @throws {ImagelessError} `internal` when the output is short or has bytes after the last record.
 */
export function parseBatchOutput(output: Buffer, requests: readonly BatchRequestKind[]): BatchRecord[] {
  const records: BatchRecord[] = [];
  let at = 0;
  for (const request of requests) {
    const parsed = parseBatchRecord(output, at, request);
    if (parsed === undefined) {
      throw new ImagelessError(
        "internal",
        `git cat-file: output ended after ${records.length} of ${requests.length} records`,
      );
    }
    records.push(parsed.record);
    at = parsed.next;
  }
  if (at !== output.length) {
    throw new ImagelessError("internal", `git cat-file: ${output.length - at} bytes after the last record`);
  }
  return records;
}

/** One entry of a tree object. */
export interface TreeEntry {
  readonly mode: string;
  readonly type: "blob" | "tree" | "commit";
  readonly id: string;
  readonly name: string;
}

/**
 * The entries of a raw tree object (`<mode> <name>\0<binary id>` each), as `cat-file` returns its
 * content. `idBytes` is 20 for SHA-1 repositories, 32 for SHA-256.
 *
 * @throws {ImagelessError} `internal` for a truncated or malformed tree.
 */
export function parseTree(content: Buffer, idBytes: 20 | 32): TreeEntry[] {
  const entries: TreeEntry[] = [];
  let at = 0;
  while (at < content.length) {
    const space = content.indexOf(0x20, at);
    const nul = content.indexOf(0x00, space + 1);
    if (space < 0 || nul < 0 || nul + 1 + idBytes > content.length) {
      throw new ImagelessError("internal", `git tree object: malformed entry at byte ${at}`);
    }
    const mode = content.subarray(at, space).toString("latin1");
    const type = mode === "40000" ? "tree" : mode === "160000" ? "commit" : "blob";
    entries.push({
      mode,
      type,
      name: content.subarray(space + 1, nul).toString("utf8"),
      id: content.subarray(nul + 1, nul + 1 + idBytes).toString("hex"),
    });
    at = nul + 1 + idBytes;
  }
  return entries;
}
