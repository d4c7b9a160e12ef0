import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import fc from "fast-check";
import { ImagelessError } from "../errors/imageless-error.js";
import { type TarEntry, writeTar } from "./tar.js";

function extract(tar: Buffer): { dir: string; listing: string } {
  const dir = mkdtempSync(join(tmpdir(), "imageless-tar-"));
  writeFileSync(join(dir, "a.tar"), tar);
  const listing = execFileSync("tar", ["-tvf", join(dir, "a.tar")], { encoding: "utf8" });
  execFileSync("tar", ["-xf", join(dir, "a.tar"), "-C", dir, "--no-same-owner"]);
  return { dir, listing };
}

test("writeTar() output is read back by GNU tar with modes, contents and links", () => {
  const longDir = `deep/${"d".repeat(90)}/${"e".repeat(60)}`;
  const entries: TarEntry[] = [
    { type: "dir", path: "bin" },
    { type: "file", path: "bin/tool", mode: 0o755, content: Buffer.from([0, 1, 2, 255]) },
    { type: "symlink", path: "bin/sh", linkname: "tool" },
    { type: "file", path: "etc/empty", content: "" },
    { type: "file", path: `${longDir}/f.txt`, content: "x".repeat(513) },
  ];
  const tar = writeTar(entries);
  assert.equal(tar.length % 512, 0);
  const { dir, listing } = extract(tar);
  try {
    assert.match(listing, /^drwxr-xr-x root\/root\s+0 1970-01-01 00:00 bin\/$/m);
    assert.match(listing, /^-rwxr-xr-x root\/root\s+4 .* bin\/tool$/m);
    assert.match(listing, /^lrwxrwxrwx .* bin\/sh -> tool$/m);
    assert.deepEqual(readFileSync(join(dir, "bin/tool")), Buffer.from([0, 1, 2, 255]));
    assert.equal(statSync(join(dir, "bin/tool")).mode & 0o777, 0o755);
    assert.equal(readlinkSync(join(dir, "bin/sh")), "tool");
    assert.equal(readFileSync(join(dir, "etc/empty"), "utf8"), "");
    assert.equal(readFileSync(join(dir, longDir, "f.txt"), "utf8"), "x".repeat(513));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("writeTar() of no entries is two zero blocks", () => {
  assert.deepEqual(writeTar([]), Buffer.alloc(1024));
});

test("writeTar() is deterministic", () => {
  const entries: TarEntry[] = [{ type: "file", path: "a", content: "b" }];
  assert.deepEqual(writeTar(entries), writeTar(entries));
});

test("writeTar() rejects absolute-escaping and oversized paths with invalid-input", () => {
  const bad: TarEntry[] = [
    { type: "file", path: "../x", content: "" },
    { type: "file", path: "/", content: "" },
    { type: "file", path: "y".repeat(101), content: "" },
    { type: "symlink", path: "l", linkname: "z".repeat(101) },
  ];
  for (const entry of bad) {
    assert.throws(
      () => writeTar([entry]),
      (e: unknown) => e instanceof ImagelessError && e.kind === "invalid-input",
    );
  }
});

test("writeTar() round trips arbitrary file names and contents through tar -x", () => {
  const name = fc.stringMatching(/^[a-z0-9_.-]{1,40}$/).filter((s) => s !== "." && s !== "..");
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.tuple(name, fc.uint8Array({ maxLength: 1200 })), {
        maxLength: 4,
        selector: ([n]) => n,
      }),
      (files) => {
        const tar = writeTar(
          files.map(([n, c]): TarEntry => ({ type: "file", path: `d/${n}`, content: Buffer.from(c) })),
        );
        const { dir } = extract(tar);
        try {
          for (const [n, c] of files) assert.deepEqual(readFileSync(join(dir, "d", n)), Buffer.from(c));
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    ),
    { numRuns: 25 },
  );
});
