import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ImagelessError } from "../../errors/imageless-error.js";
import { tokenFromAuthorization } from "./authorization-header.js";

const basic = (userPass: string) => `Basic ${Buffer.from(userPass).toString("base64")}`;

describe("tokenFromAuthorization()", () => {
  const cases: [string, string | undefined, string | undefined][] = [
    ["no header is anonymous", undefined, undefined],
    ["an empty header is anonymous", "  ", undefined],
    ["Bearer", "Bearer abc.def.ghi", "abc.def.ghi"],
    ["bearer in any case", "bearer flox_mt_x", "flox_mt_x"],
    ["Basic oauth:<token> as git sends it", basic("oauth:tok"), "tok"],
    ["Basic with an empty password (Flox without a token) is anonymous", basic("oauth:"), undefined],
  ];
  for (const [name, header, expected] of cases) {
    it(`tokenFromAuthorization() reads ${name}`, () =>
      assert.equal(tokenFromAuthorization(header)?.reveal(), expected));
  }
  it("tokenFromAuthorization() refuses other schemes without quoting the header", () => {
    assert.throws(
      () => tokenFromAuthorization("s3cret-token-text"),
      (e: unknown) =>
        e instanceof ImagelessError && e.kind === "unauthorized" && !e.message.includes("s3cret"),
    );
  });
});
