import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isErrorKind } from "../errors/imageless-error.js";
import { parseRefAdvertisement } from "./ref-advertisement.js";

const A = "a".repeat(40);
const B = "b".repeat(40);
const ZERO = "0".repeat(40);

function pkt(line: string): string {
  return (Buffer.byteLength(line) + 4).toString(16).padStart(4, "0") + line;
}
const HEAD = `${pkt("# service=git-upload-pack\n")}0000`;

describe("parseRefAdvertisement()", () => {
  it("reads every ref, the first one's capabilities left out", () => {
    const body = `${HEAD}${pkt(`${A} refs/heads/web\0multi_ack side-band-64k agent=git/2.39\n`)}${pkt(`${B} refs/heads/api\n`)}0000`;
    assert.deepEqual(
      parseRefAdvertisement(Buffer.from(body)),
      new Map([
        ["refs/heads/web", A],
        ["refs/heads/api", B],
      ]),
    );
  });

  it("reads an empty repository as no refs", () => {
    const body = `${HEAD}${pkt(`${ZERO} capabilities^{}\0report-status\n`)}0000`;
    assert.deepEqual(parseRefAdvertisement(Buffer.from(body)), new Map());
  });

  it("reads a hub that hides every branch (flush right after the service line) as no refs", () => {
    assert.deepEqual(parseRefAdvertisement(Buffer.from(`${HEAD}0000`)), new Map());
  });

  const bad: ReadonlyArray<readonly [string, string]> = [
    ["an HTML error page", "<html>502 Bad Gateway</html>"],
    ["a cut body", `${HEAD}${pkt(`${A} refs/heads/web\n`)}`],
    ["a length past the end", `${HEAD}00ff${A}`],
    ["another service", `${pkt("# service=git-receive-pack\n")}00000000`],
    ["a bad ref line", `${HEAD}${pkt("nonsense\n")}0000`],
  ];
  for (const [name, body] of bad) {
    it(`refuses ${name} as unavailable`, () => {
      assert.throws(
        () => parseRefAdvertisement(Buffer.from(body)),
        (error: unknown) =>
          isErrorKind(error, "unavailable") && /ref advertisement is not readable/.test(error.message),
      );
    });
  }
});
