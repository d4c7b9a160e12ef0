import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { appendToSpool, keepNewest, spoolPaths, takeBatches } from "./spool.js";

describe("keepNewest()", () => {
  it("drops the oldest lines first to fit both limits", () => {
    assert.equal(keepNewest("a\nb\nc\n", { maxLines: 2, maxBytes: 100 }), "b\nc\n");
    assert.equal(keepNewest("aaaa\nbb\ncc\n", { maxLines: 10, maxBytes: 6 }), "bb\ncc\n");
    assert.equal(keepNewest("", { maxLines: 10, maxBytes: 6 }), "");
  });
  it("never exceeds the limits and keeps a suffix", () => {
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[a-z]{1,8}$/)),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 40 }),
        (lines, maxLines, maxBytes) => {
          const kept = keepNewest(lines.map((l) => `${l}\n`).join(""), { maxLines, maxBytes });
          const keptLines = kept.split("\n").filter((l) => l !== "");
          return (
            keptLines.length <= maxLines &&
            Buffer.byteLength(kept) <= maxBytes &&
            lines.join("\n").endsWith(keptLines.join("\n"))
          );
        },
      ),
    );
  });
});

describe("appendToSpool() and takeBatches()", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "spool-test-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("keeps at most maxLines events, the newest", async () => {
    for (let i = 0; i < 30; i++)
      await appendToSpool(
        dir,
        { i, pad: "x".repeat(100) },
        { maxLines: 10, maxBytes: 1 << 20, checkEveryBytes: 256 },
      );
    const lines = (await readFile(spoolPaths(dir).spool, "utf8")).trim().split("\n");
    assert.ok(lines.length >= 9 && lines.length <= 12, `bounded: ${lines.length}`);
    assert.equal(JSON.parse(lines.at(-1) ?? "{}").i, 29);
  });
  it("moves the spool into an outbox batch", async () => {
    const batches = await takeBatches(dir);
    assert.equal(batches.length, 1);
    await assert.rejects(readFile(spoolPaths(dir).spool));
    assert.ok((await readFile(batches[0] ?? "", "utf8")).includes('"i":29'));
  });
  it("fails (for the caller to log) when the spool directory is a file", async () => {
    const broken = join(dir, "broken");
    await writeFile(broken, "");
    await assert.rejects(appendToSpool(join(broken, "state"), { x: 1 }));
  });
});
