import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { ImagelessError } from "../../errors/imageless-error.js";
import { TooLargeError } from "../hub-limits.js";
import { unpackNar } from "./nar-unpack.js";
import { toNixBase32 } from "./nix-base32.js";

describe("unpackNar()", () => {
  let dir: string;
  const content = Buffer.from("nix-archive-1 … a stand-in for a NAR ".repeat(1000));
  const expected = {
    narHash: `sha256:${toNixBase32(createHash("sha256").update(content).digest())}`,
    narSize: content.length,
  };
  const limit = { maxBytes: 1 << 20, flag: "--max-nar" };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "nar-unpack-"));
    await writeFile(join(dir, "a.nar"), content);
    await writeFile(join(dir, "a.nar.gz"), gzipSync(content));
    await writeFile(join(dir, "a.nar.zst"), execFileSync("zstd", ["-q", "-c"], { input: content }));
    await writeFile(join(dir, "a.nar.xz"), execFileSync("xz", ["-q", "-c"], { input: content }));
    // 64 MiB of zeros in a few KiB: unpacking must stop at the limit, not at the end.
    await writeFile(
      join(dir, "bomb.nar.zst"),
      execFileSync("zstd", ["-q", "-c"], { input: Buffer.alloc(64 << 20) }),
    );
    await writeFile(join(dir, "broken.nar.zst"), "not zstd");
  });
  after(() => rm(dir, { recursive: true, force: true }));

  for (const name of ["a.nar", "a.nar.gz", "a.nar.zst", "a.nar.xz"]) {
    it(`unpackNar() hashes the NAR inside ${name}`, async () => {
      assert.deepEqual(await unpackNar(join(dir, name), limit), expected);
    });
  }
  it("unpackNar() stops a file that unpacks to more than maxBytes", async () => {
    await assert.rejects(unpackNar(join(dir, "bomb.nar.zst"), limit), TooLargeError);
  });
  it("unpackNar() refuses bytes that do not unpack, and compressions it does not know, as invalid input", async () => {
    await assert.rejects(unpackNar(join(dir, "broken.nar.zst"), limit), {
      name: "ImagelessError",
      kind: "invalid-input",
      message: "the uploaded NAR file does not unpack as .zst",
    });
    await assert.rejects(unpackNar(join(dir, "x.nar.lz4"), limit), (error: unknown) => {
      return error instanceof ImagelessError && /NAR compression \.lz4 is not accepted/.test(error.message);
    });
  });
});
