import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ImagelessError } from "../../errors/imageless-error.js";
import { formatSignedNarInfo, hashPart, narInfoFingerprint, parseNarInfo, withFileFacts } from "./narinfo.js";

// What nix 2.8 `nix copy --to http://…?compression=zstd` uploaded for a small path.
const UPLOADED = `StorePath: /nix/store/vxcc3p5q7r6drja09mqsrw1mz0afzp9v-src
URL: nar/1yc8nngj11c4ld6zpym8xszrqkiqfvwqq1w5q0nr4fibgl8vvw38.nar.zst
Compression: zstd
FileHash: sha256:1yc8nngj11c4ld6zpym8xszrqkiqfvwqq1w5q0nr4fibgl8vvw38
FileSize: 173
NarHash: sha256:16hjbg1cg6pmxjvsp792lw6dk8kyi5q5cx1av67ajnj3vlimi4qq
NarSize: 504
References: 
CA: fixed:r:sha256:16hjbg1cg6pmxjvsp792lw6dk8kyi5q5cx1av67ajnj3vlimi4qq
`;
const WITH_REFS = UPLOADED.replace(
  "References: ",
  "References: vxcc3p5q7r6drja09mqsrw1mz0afzp9v-src 0mdqa9w1p6cmli6976v4wi0sw9r4p5pr-busybox\nSig: other-1:abc=",
);

describe("parseNarInfo()", () => {
  it("parseNarInfo() reads what nix copy uploads", () => {
    const info = parseNarInfo(UPLOADED, "x.narinfo");
    assert.equal(info.storePath, "/nix/store/vxcc3p5q7r6drja09mqsrw1mz0afzp9v-src");
    assert.equal(info.url, "nar/1yc8nngj11c4ld6zpym8xszrqkiqfvwqq1w5q0nr4fibgl8vvw38.nar.zst");
    assert.equal(info.narSize, 504);
    assert.equal(info.fileHash, "sha256:1yc8nngj11c4ld6zpym8xszrqkiqfvwqq1w5q0nr4fibgl8vvw38");
    assert.deepEqual(info.references, []);
    assert.deepEqual(info.signatures, []);
  });

  const bad: [string, string, RegExp][] = [
    ["no StorePath", UPLOADED.replace(/^StorePath.*\n/, ""), /x\.narinfo: StorePath is missing/],
    [
      "a relative StorePath",
      UPLOADED.replace("/nix/store/vxcc", "vxcc"),
      /StorePath "vxcc.*" is not accepted/,
    ],
    [
      "a URL leaving nar/",
      UPLOADED.replace("URL: nar/", "URL: ../"),
      /URL "\.\.\/.*" is not accepted: expected nar\/<hash>\.nar/,
    ],
    [
      "a base-16 NarHash",
      UPLOADED.replace(/NarHash: .*/, `NarHash: sha256:${"ab".repeat(32)}`),
      /NarHash .* is not accepted/,
    ],
    ["a negative NarSize", UPLOADED.replace("NarSize: 504", "NarSize: -1"), /NarSize "-1" is not accepted/],
    [
      "a reference that is a path",
      UPLOADED.replace("References: ", "References: /nix/store/x"),
      /References "\/nix\/store\/x"/,
    ],
    ["a line without a key", `${UPLOADED}garbage\n`, /line "garbage" is not "Key: value"/],
  ];
  for (const [what, text, message] of bad) {
    it(`parseNarInfo() refuses ${what} as invalid-input`, () => {
      assert.throws(
        () => parseNarInfo(text, "x.narinfo"),
        (e: unknown) => e instanceof ImagelessError && e.kind === "invalid-input" && message.test(e.message),
      );
    });
  }
});

describe("narInfoFingerprint()", () => {
  it("narInfoFingerprint() is Nix's 1;path;hash;size;refs text", () => {
    assert.equal(
      narInfoFingerprint(parseNarInfo(UPLOADED, "x")),
      "1;/nix/store/vxcc3p5q7r6drja09mqsrw1mz0afzp9v-src;sha256:16hjbg1cg6pmxjvsp792lw6dk8kyi5q5cx1av67ajnj3vlimi4qq;504;",
    );
    assert.match(
      narInfoFingerprint(parseNarInfo(WITH_REFS, "x")),
      /;504;\/nix\/store\/vxcc3p5q7r6drja09mqsrw1mz0afzp9v-src,\/nix\/store\/0mdqa9w1p6cmli6976v4wi0sw9r4p5pr-busybox$/,
    );
  });
});

describe("formatSignedNarInfo()", () => {
  it("formatSignedNarInfo() replaces every signature with the given one and keeps the rest", () => {
    const text = formatSignedNarInfo(parseNarInfo(WITH_REFS, "x"), "hub-1:sig=");
    assert.doesNotMatch(text, /other-1/);
    assert.match(text, /\nSig: hub-1:sig=\n$/);
    assert.match(
      text,
      /\nReferences: vxcc3p5q7r6drja09mqsrw1mz0afzp9v-src 0mdqa9w1p6cmli6976v4wi0sw9r4p5pr-busybox\n/,
    );
    assert.match(text, /\nCA: fixed:r:sha256:/);
    const again = parseNarInfo(text, "x");
    assert.deepEqual(again.signatures, ["hub-1:sig="]);
  });
});

describe("hashPart()", () => {
  it("hashPart() takes the hash of a path or a base name", () => {
    assert.equal(
      hashPart("/nix/store/vxcc3p5q7r6drja09mqsrw1mz0afzp9v-src"),
      "vxcc3p5q7r6drja09mqsrw1mz0afzp9v",
    );
    assert.equal(hashPart("vxcc3p5q7r6drja09mqsrw1mz0afzp9v-src"), "vxcc3p5q7r6drja09mqsrw1mz0afzp9v");
  });
});

describe("withFileFacts()", () => {
  it("withFileFacts() sets FileHash and FileSize to the measured values, before NarHash", () => {
    const info = withFileFacts(parseNarInfo(UPLOADED, "x"), {
      fileHash: `sha256:${"0".repeat(52)}`,
      fileSize: 9,
    });
    assert.deepEqual(
      info.fields.map(([key]) => key),
      ["StorePath", "URL", "Compression", "FileHash", "FileSize", "NarHash", "NarSize", "References", "CA"],
    );
    assert.equal(info.fileHash, `sha256:${"0".repeat(52)}`);
    assert.deepEqual(parseNarInfo(formatSignedNarInfo(info, "k:s"), "x").fields[4], ["FileSize", "9"]);
  });
});

/** Runs `parse` and says whether it returned or threw an ImagelessError (anything else fails the property). */
function onlyTypedErrors(parse: () => unknown): boolean {
  try {
    parse();
  } catch (error) {
    return error instanceof ImagelessError && error.kind === "invalid-input" && !error.message.includes("\n");
  }
  return true;
}

// Fuzz budget, reported by the suite (docs/hub.md "Bad input").
const NARINFO_FUZZ_RUNS = { text: 2000, mutated: 2000, roundTrip: 500 };

describe("parseNarInfo() under arbitrary input (fast-check)", () => {
  it("parseNarInfo() throws only a one-line invalid-input ImagelessError for arbitrary text", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 400 }), (text) =>
        onlyTypedErrors(() => parseNarInfo(text, "x")),
      ),
      { numRuns: NARINFO_FUZZ_RUNS.text },
    );
  });

  it("parseNarInfo() throws only typed errors when fields of a real narinfo are replaced, dropped or repeated", () => {
    const lines = WITH_REFS.split("\n").filter((line) => line !== "");
    const edit = fc.oneof(
      fc.record({
        kind: fc.constant("replace" as const),
        at: fc.nat(),
        value: fc.string({ unit: "binary", maxLength: 80 }),
      }),
      fc.record({ kind: fc.constant("drop" as const), at: fc.nat() }),
      fc.record({ kind: fc.constant("repeat" as const), at: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(edit, { maxLength: 4 }), (edits) => {
        const edited = [...lines];
        for (const e of edits) {
          const at = e.at % Math.max(1, edited.length);
          const line = edited[at] ?? "";
          if (e.kind === "replace") edited[at] = `${line.slice(0, line.indexOf(":") + 1)} ${e.value}`;
          else if (e.kind === "drop") edited.splice(at, 1);
          else edited.splice(at, 0, line);
        }
        return onlyTypedErrors(() => parseNarInfo(edited.join("\n"), "x"));
      }),
      { numRuns: NARINFO_FUZZ_RUNS.mutated },
    );
  });

  it("parseNarInfo() reads back what formatSignedNarInfo() wrote (round trip)", () => {
    const base32 = fc.constantFrom(..."0123456789abcdfghijklmnpqrsvwxyz");
    const hash = (n: number) => fc.array(base32, { minLength: n, maxLength: n }).map((c) => c.join(""));
    const name = fc.stringMatching(/^[A-Za-z0-9+._?=-]{1,20}$/).filter((n) => !n.startsWith("."));
    fc.assert(
      fc.property(
        hash(32),
        name,
        hash(52),
        fc.nat(),
        fc.array(fc.tuple(hash(32), name), { maxLength: 5 }),
        (h, n, nh, size, refs) => {
          const text = [
            `StorePath: /nix/store/${h}-${n}`,
            `URL: nar/${nh}.nar.zst`,
            `NarHash: sha256:${nh}`,
            `NarSize: ${size}`,
            `References: ${refs.map(([rh, rn]) => `${rh}-${rn}`).join(" ")}`,
          ].join("\n");
          const info = parseNarInfo(text, "x");
          const again = parseNarInfo(formatSignedNarInfo(info, "hub-1:c2ln"), "x");
          assert.deepEqual({ ...again, signatures: [], fields: [] }, { ...info, signatures: [], fields: [] });
          assert.deepEqual(again.signatures, ["hub-1:c2ln"]);
        },
      ),
      { numRuns: NARINFO_FUZZ_RUNS.roundTrip },
    );
  });
});
