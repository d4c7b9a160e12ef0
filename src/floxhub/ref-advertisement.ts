/**
 * git's smart-HTTP ref advertisement (`GET <repo>/info/refs?service=git-upload-pack`, protocol v0),
 * read as data: pkt-lines — 4 hex digits of length (itself included), then the payload; `0000` is a
 * flush. The first section is `# service=git-upload-pack`, then one `<sha> <refname>` per ref, the
 * first carrying capabilities after a NUL. Pure: the HTTP client is ref-advertisement-client.ts.
 */
import { ImagelessError } from "../errors/imageless-error.js";

/** The content type a smart server answers with; anything else is the dumb protocol or not git. */
export const ADVERTISEMENT_CONTENT_TYPE = "application/x-git-upload-pack-advertisement";

const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/**
 * The refs of an advertisement, by full name (`refs/heads/web` → commit id). An empty repository
 * advertises none.
 *
 * @throws {ImagelessError} `unavailable` for a body that is not a complete advertisement (a proxy's
 *   error page, a cut connection): the hub did not answer usefully.
 * @example
 * parseRefAdvertisement(Buffer.from("001e# service=git-upload-pack\n0000" + "003f" + sha + " refs/heads/web\n0000"));
 * // Map { "refs/heads/web" => sha }
 */
export function parseRefAdvertisement(body: Buffer): Map<string, string> {
  const refs = new Map<string, string>();
  let at = 0;
  let flushes = 0;
  let first = true;
  while (at < body.length) {
    const length = pktLength(body, at);
    if (length === 0) {
      flushes++;
      at += 4;
      continue;
    }
    const line = body
      .subarray(at + 4, at + length)
      .toString("utf8")
      .replace(/\n$/, "");
    at += length;
    if (first) {
      first = false;
      if (line === "# service=git-upload-pack") continue;
      throw bad("it does not start with # service=git-upload-pack");
    }
    const withoutCaps = line.split("\0", 1)[0] ?? "";
    const space = withoutCaps.indexOf(" ");
    const sha = withoutCaps.slice(0, space);
    const name = withoutCaps.slice(space + 1);
    if (space < 0 || !SHA.test(sha)) throw bad(`a ref line is not "<sha> <name>"`);
    // An empty repository advertises "capabilities^{}" with a zero id; peeled tags end in ^{}.
    if (name.endsWith("^{}")) continue;
    refs.set(name, sha);
  }
  if (first || flushes < 2) throw bad("it ends before its final flush-pkt");
  return refs;
}

function pktLength(body: Buffer, at: number): number {
  const hex = body.subarray(at, at + 4).toString("latin1");
  if (!/^[0-9a-f]{4}$/.test(hex)) throw bad(`"${hex}" is not a pkt-line length`);
  const length = Number.parseInt(hex, 16);
  if (length === 0) return 0;
  if (length < 4 || at + length > body.length) throw bad("a pkt-line runs past the end");
  return length;
}

function bad(why: string): ImagelessError {
  return new ImagelessError("unavailable", `the git ref advertisement is not readable: ${why}`);
}
