import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeTempDir, removeTree } from "../../test/harness/temp.js";
import { readProcess, writeProcess } from "./bundle.js";

let dir: string;
before(async () => {
  dir = await makeTempDir("bundle");
});
after(async () => {
  await removeTree(dir);
});

describe("writeProcess (the exec process file, rewritten in place)", () => {
  it("leaves exactly the new process, whether it is longer or shorter than the old file", async () => {
    const file = join(dir, "process.json");
    await writeFile(file, JSON.stringify({ args: ["sh", "-c", ":"], env: ["PATH=/bin"], cwd: "/" }));
    const longer = {
      args: ["sh", "-c", ":"],
      env: ["PATH=/nix/store/x-env/bin:/bin", "FLOX_ENV=/nix/store/x-env"],
      cwd: "/",
    };
    await writeProcess(file, longer);
    assert.deepEqual(await readProcess(file), longer);
    const shorter = { args: ["true"], cwd: "/" };
    await writeProcess(file, shorter);
    assert.equal(await readFile(file, "utf8"), JSON.stringify(shorter));
  });
});
