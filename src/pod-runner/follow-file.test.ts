import assert from "node:assert/strict";
import { appendFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { followFile } from "./follow-file.js";

describe("followFile()", () => {
  it("passes on the whole lines appended after it started, the last ones when stopped", async () => {
    const dir = await mkdtemp(join(tmpdir(), "follow-file-"));
    try {
      const file = join(dir, "runtime.jsonl");
      await writeFile(file, "before 1\nbefore 2\n");
      const seen: string[] = [];
      const followed = await followFile(file, (line) => seen.push(line));
      await appendFile(file, "first\nsecond\nthird, torn");
      await followed.stop();
      assert.deepEqual(seen, ["first", "second"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("follows a file that appears only later from its start, and a missing one quietly", async () => {
    const dir = await mkdtemp(join(tmpdir(), "follow-file-"));
    try {
      const file = join(dir, "runtime.jsonl");
      const seen: string[] = [];
      const followed = await followFile(file, (line) => seen.push(line));
      await writeFile(file, "created\n");
      await followed.stop();
      assert.deepEqual(seen, ["created"]);
      const missing = await followFile(join(dir, "never"), (line) => seen.push(line));
      await missing.stop();
      assert.deepEqual(seen, ["created"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
