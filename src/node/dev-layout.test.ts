import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { StorePath } from "../nix/store-path.js";
import { probeDevLayout } from "./dev-layout.js";

const sp = (name: string): StorePath => `/nix/store/0123456789abcdfghijklmnpqrsvwxyz-${name}` as StorePath;

// A profile as buildenv makes it: links into package outputs, followed inside the store root only.
describe("probeDevLayout()", () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), "imageless-dev-layout-"));
    const python = join(root, sp("python-3.12"), "lib", "python3.12", "site-packages");
    await mkdir(python, { recursive: true });
    await mkdir(join(root, sp("jdk"), "bin"), { recursive: true });
    await writeFile(join(root, sp("jdk"), "bin", "java"), "");
    const profile = join(root, sp("env"));
    await mkdir(join(profile, "lib", "python3.11", "site-packages"), { recursive: true });
    await symlink(join(sp("python-3.12"), "lib", "python3.12"), join(profile, "lib", "python3.12"));
    await mkdir(join(profile, "bin"), { recursive: true });
    await symlink(join(sp("jdk"), "bin", "java"), join(profile, "bin", "java"));
    await mkdir(join(profile, "share"), { recursive: true });
    // A link leaving the store is not followed (it would be the host's directory).
    await symlink("/usr/share", join(profile, "share", "jupyter"));
  });
  after(() => rm(root, { recursive: true, force: true }));

  it("probeDevLayout() finds site-packages through links into the store, and java", async () => {
    assert.deepEqual(await probeDevLayout(sp("env"), root), {
      pythonSitePackages: ["lib/python3.11/site-packages", "lib/python3.12/site-packages"],
      jupyter: false,
      java: true,
      rustSrc: false,
    });
  });
  it("probeDevLayout() reports nothing for a profile without those directories", async () => {
    await mkdir(join(root, sp("empty")), { recursive: true });
    assert.deepEqual(await probeDevLayout(sp("empty"), root), {
      pythonSitePackages: [],
      jupyter: false,
      java: false,
      rustSrc: false,
    });
  });
});
