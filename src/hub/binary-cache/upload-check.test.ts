import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseNarInfo } from "./narinfo.js";
import { judgeUpload, type UploadFacts, type UploadVerdict } from "./upload-check.js";

const H = "vxcc3p5q7r6drja09mqsrw1mz0afzp9v";
const B = "0mdqa9w1p6cmli6976v4wi0sw9r4p5pr";
const FILE = "1yc8nngj11c4ld6zpym8xszrqkiqfvwqq1w5q0nr4fibgl8vvw38";
const NAR = "16hjbg1cg6pmxjvsp792lw6dk8kyi5q5cx1av67ajnj3vlimi4qq";
const OTHER = "0".repeat(52);
const PATH = `/nix/store/${H}-src`;

function narinfo(fields: Record<string, string> = {}): string {
  const base: Record<string, string> = {
    StorePath: PATH,
    URL: `nar/${FILE}.nar.zst`,
    FileHash: `sha256:${FILE}`,
    FileSize: "173",
    NarHash: `sha256:${NAR}`,
    NarSize: "504",
    References: `${H}-src ${B}-busybox`,
    ...fields,
  };
  return Object.entries(base)
    .map(([k, v]) => `${k}: ${v}`)
    .join("\n");
}

const MEASURED = { fileHash: `sha256:${FILE}`, fileSize: 173, narHash: `sha256:${NAR}`, narSize: 504 };

function facts(overrides: Partial<UploadFacts> & { text?: string } = {}): UploadFacts {
  const { text, ...rest } = overrides;
  return {
    owner: "acme",
    hash: H,
    info: parseNarInfo(text ?? narinfo(), "x"),
    nar: MEASURED,
    inNamespace: (hash) => hash === B,
    ...rest,
  };
}

describe("judgeUpload()", () => {
  const where = `${PATH} in acme's cache`;
  const cases: [string, UploadFacts, UploadVerdict][] = [
    ["stores a narinfo that matches its NAR", facts(), { kind: "store" }],
    [
      "refuses a narinfo uploaded under another name",
      facts({ hash: B }),
      { kind: "invalid", message: `${B}.narinfo: StorePath ${PATH} belongs to another name` },
    ],
    [
      "calls a second upload of the same content identical",
      facts({
        existing: parseNarInfo(narinfo({ URL: `nar/${OTHER}.nar.xz`, FileHash: `sha256:${OTHER}` }), "x"),
      }),
      { kind: "identical" },
    ],
    [
      "refuses a second upload of other content with a conflict",
      facts({ existing: parseNarInfo(narinfo({ NarHash: `sha256:${OTHER}` }), "x") }),
      {
        kind: "conflict",
        message: `${where} exists with different content (NarHash sha256:${OTHER}, this upload sha256:${NAR}): a path is uploaded once per namespace`,
      },
    ],
    [
      "refuses a narinfo whose NAR the namespace did not upload",
      { ...facts(), nar: undefined } as unknown as UploadFacts,
      {
        kind: "invalid",
        message: `${where}: nar/${FILE}.nar.zst has not been uploaded to acme's cache: upload the nar first`,
      },
    ],
    [
      "refuses a Compression that is not the NAR file's (nodes unpack by it)",
      facts({ text: `${narinfo()}\nCompression: none` }),
      { kind: "invalid", message: `${where}: Compression none does not match nar/${FILE}.nar.zst (zstd)` },
    ],
    [
      "refuses a FileHash that is not the NAR file's",
      facts({ nar: { ...MEASURED, fileHash: `sha256:${OTHER}` } }),
      {
        kind: "invalid",
        message: `${where}: FileHash sha256:${FILE} does not match nar/${FILE}.nar.zst (sha256:${OTHER})`,
      },
    ],
    [
      "refuses a FileSize that is not the NAR file's",
      facts({ nar: { ...MEASURED, fileSize: 174 } }),
      { kind: "invalid", message: `${where}: FileSize 173 does not match nar/${FILE}.nar.zst (174 bytes)` },
    ],
    [
      "refuses a NarHash the unpacked NAR does not have",
      facts({ nar: { ...MEASURED, narHash: `sha256:${OTHER}` } }),
      {
        kind: "invalid",
        message: `${where}: NarHash sha256:${NAR} does not match the uploaded NAR (sha256:${OTHER})`,
      },
    ],
    [
      "refuses a NarSize the unpacked NAR does not have",
      facts({ nar: { ...MEASURED, narSize: 505 } }),
      { kind: "invalid", message: `${where}: NarSize 504 does not match the uploaded NAR (505)` },
    ],
    [
      "refuses a reference the namespace does not hold (the path itself is fine)",
      facts({ inNamespace: () => false }),
      {
        kind: "invalid",
        message: `${where}: its reference /nix/store/${B}-busybox is not in acme's cache: upload it first (nix copy uploads a closure in order)`,
      },
    ],
  ];
  for (const [name, input, expected] of cases) {
    it(`judgeUpload() ${name}`, () => assert.deepEqual(judgeUpload(input), expected));
  }
});
