import assert from "node:assert/strict";
import { createPublicKey, verify } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ImagelessError } from "../../errors/imageless-error.js";
import { loadOrCreateSigningKey, parseSecretKey } from "./signing-key.js";

// A throwaway pair from `nix-store --generate-binary-cache-key test-1 sk pk` (nix 2.8), and the
// signature `nix store sign` made with it for the fingerprint below.
const NIX_SECRET =
  "test-1:UUFzEQx/vu/LB1cdYrjmdg7c2q9DKtgQRp0BVt/h90hsy1ILTCrjY2P5zmXy0yOTrXut/gwW9EoadoYJDU2v1w==";
const NIX_PUBLIC = "test-1:bMtSC0wq42Nj+c5l8tMjk617rf4MFvRKGnaGCQ1Nr9c=";
const FINGERPRINT =
  "1;/nix/store/vxcc3p5q7r6drja09mqsrw1mz0afzp9v-src;sha256:16hjbg1cg6pmxjvsp792lw6dk8kyi5q5cx1av67ajnj3vlimi4qq;504;";
const NIX_SIGNATURE =
  "test-1:uTFXZ0Uunw9r7svfyJMQq+L+AjL1ifGJGxIaCOrJUIuCkiLfKLN+fWvWf9y3PRN7PXICydRFnXV19iHk8JS9AA==";

describe("parseSecretKey()", () => {
  it("parseSecretKey() reads Nix's secret key file and signs exactly as nix store sign does", () => {
    const key = parseSecretKey(`${NIX_SECRET}\n`, "sk");
    assert.equal(key.name, "test-1");
    assert.equal(key.publicKey, NIX_PUBLIC);
    assert.equal(key.sign(FINGERPRINT), NIX_SIGNATURE);
  });

  const bad: [string, string][] = [
    ["no name", NIX_SECRET.slice("test-1:".length)],
    ["a short key", "test-1:AAAA"],
    ["mismatched halves", `test-1:${Buffer.alloc(64, 1).toString("base64")}`],
  ];
  for (const [what, text] of bad) {
    it(`parseSecretKey() refuses ${what} as invalid-input`, () => {
      assert.throws(
        () => parseSecretKey(text, "sk"),
        (e: unknown) => e instanceof ImagelessError && e.kind === "invalid-input",
      );
    });
  }
});

describe("loadOrCreateSigningKey()", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "signing-key-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("loadOrCreateSigningKey() creates a private Nix key file once and reads the same key after", async () => {
    const [first, concurrent] = await Promise.all([loadOrCreateSigningKey(dir), loadOrCreateSigningKey(dir)]);
    const again = await loadOrCreateSigningKey(dir);
    assert.equal(first.publicKey, concurrent.publicKey);
    assert.equal(first.publicKey, again.publicKey);
    assert.match(first.publicKey, /^imageless-hub-1:[A-Za-z0-9+/]{43}=$/);
    assert.equal((await stat(join(dir, "signing-key"))).mode & 0o777, 0o600);
    assert.match(await readFile(join(dir, "signing-key"), "utf8"), /^imageless-hub-1:[A-Za-z0-9+/]{86}==$/);

    const signature = first.sign(FINGERPRINT);
    const [name, base64 = ""] = signature.split(":");
    assert.equal(name, "imageless-hub-1");
    const publicKey = createPublicKey({
      key: {
        kty: "OKP",
        crv: "Ed25519",
        x: Buffer.from(first.publicKey.split(":")[1] ?? "", "base64").toString("base64url"),
      },
      format: "jwk",
    });
    assert.ok(verify(null, Buffer.from(FINGERPRINT), publicKey, Buffer.from(base64, "base64")));
  });

  it("loadOrCreateSigningKey() keeps a key file a person put there", async () => {
    const other = await mkdtemp(join(tmpdir(), "signing-key-"));
    try {
      await writeFile(join(other, "signing-key"), NIX_SECRET);
      assert.equal((await loadOrCreateSigningKey(other)).publicKey, NIX_PUBLIC);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });
});
