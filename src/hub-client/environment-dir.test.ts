import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ImagelessError } from "../errors/imageless-error.js";
import { readEnvironmentDir, writeEnvironmentDir } from "./environment-dir.js";

const HELLO = "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-hello-1.0";

describe("readEnvironmentDir() and writeEnvironmentDir()", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "imageless-envdir-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("says what -d must hold when there is no manifest", async () => {
    await assert.rejects(
      readEnvironmentDir(join(dir, "none"), "x86_64-linux"),
      (e: unknown) =>
        e instanceof ImagelessError &&
        e.kind === "not-found" &&
        /-d must name a Flox environment directory/.test(e.message),
    );
  });

  it("locks a store-path manifest here and keeps an existing lock as it is", async () => {
    const env = join(dir, "sp");
    const manifest = `version = 1\n[install]\nhello.store-path = "${HELLO}"\n[vars]\nA = "b"\n`;
    await writeEnvironmentDir(env, { name: "sp", manifestToml: manifest });
    const read = await readEnvironmentDir(env, "x86_64-linux");
    assert.equal(read.lockedHere, true);
    assert.equal(read.manifestToml, manifest);
    assert.deepEqual(JSON.parse(read.lockText).packages, [
      { install_id: "hello", store_path: HELLO, system: "x86_64-linux", priority: 5 },
    ]);
    const lockText = '{"lockfile-version":1,"manifest":{"version":1},"packages":[]}';
    const files = await writeEnvironmentDir(env, { name: "sp", manifestToml: manifest, lockText });
    assert.deepEqual(files, [join(env, ".flox/env/manifest.toml"), join(env, ".flox/env/manifest.lock")]);
    assert.equal((await readEnvironmentDir(env, "x86_64-linux")).lockText, lockText);
    assert.deepEqual(JSON.parse(await readFile(join(env, ".flox", "env.json"), "utf8")), {
      name: "sp",
      version: 1,
    });
  });

  it("refuses catalog packages without a lock and bad TOML", async () => {
    const env = join(dir, "cat");
    await mkdir(join(env, ".flox", "env"), { recursive: true });
    await writeFile(
      join(env, ".flox", "env", "manifest.toml"),
      'version = 1\n[install]\njq.pkg-path = "jq"\n',
    );
    await assert.rejects(
      readEnvironmentDir(env, "x86_64-linux"),
      /has catalog or flake packages \('jq'\) and no manifest\.lock/,
    );
    await writeFile(join(env, ".flox", "env", "manifest.toml"), "version = \n");
    await assert.rejects(readEnvironmentDir(env, "x86_64-linux"), /not valid TOML/);
  });
});
