import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readlink, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { replaceSymlink } from "./replace-symlink.js";

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "replace-symlink-"));
});
after(() => rm(dir, { recursive: true, force: true }));

describe("replaceSymlink()", () => {
  it("makes a new link, then repoints it, leaving no temporary file", async () => {
    const link = join(dir, "current");
    replaceSymlink(link, "releases/1");
    assert.equal(await readlink(link), "releases/1");
    replaceSymlink(link, "releases/2");
    assert.equal(await readlink(link), "releases/2");
    assert.deepEqual(await readdir(dir), ["current"]);
  });

  it("replaces a regular file at the link's place", async () => {
    const link = join(dir, "was-a-file");
    await writeFile(link, "x");
    replaceSymlink(link, "/elsewhere");
    assert.equal(await readlink(link), "/elsewhere");
  });

  it("fails on a directory at the link's place and removes its temporary link", async () => {
    const sub = join(dir, "sub");
    await mkdir(join(sub, "busy"), { recursive: true });
    await writeFile(join(sub, "busy", "file"), "x");
    assert.throws(() => replaceSymlink(join(sub, "busy"), "/elsewhere"), { code: "EISDIR" });
    assert.deepEqual(await readdir(sub), ["busy"]);
  });
});
