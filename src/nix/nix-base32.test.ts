import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { isNixSha256, toNixBase32 } from "./nix-base32.js";

describe("toNixBase32()", () => {
  // Expected values from `nix-hash --type sha256 --to-base32 <hex>` (nix 2.8).
  const cases: [string, string][] = [
    [
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73",
    ],
    [
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
      "1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s",
    ],
    [
      "0000000000000000000000000000000000000000000000000000000000000001",
      "0080000000000000000000000000000000000000000000000000",
    ],
  ];
  for (const [hex, expected] of cases) {
    it(`toNixBase32() encodes ${hex.slice(0, 8)}… as nix-hash does`, () => {
      assert.equal(toNixBase32(Buffer.from(hex, "hex")), expected);
    });
  }
  it("toNixBase32() encodes a sha256 digest in 52 characters", () => {
    const text = toNixBase32(createHash("sha256").update("x").digest());
    assert.equal(text.length, 52);
    assert.ok(isNixSha256(`sha256:${text}`));
  });
});

describe("isNixSha256()", () => {
  const cases: [string, boolean][] = [
    ["sha256:1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s", true],
    ["sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", false],
    ["sha512:1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s", false],
    ["sha256:1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5e", false],
  ];
  for (const [value, expected] of cases) {
    it(`isNixSha256() is ${expected} for ${value.slice(0, 20)}…`, () =>
      assert.equal(isNixSha256(value), expected));
  }
});
