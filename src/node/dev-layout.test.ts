import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { StorePath } from "../nix/store-path.js";
import { probeDevLayout, pythonVersionOf } from "./dev-layout.js";

const sp = (name: string): StorePath => `/nix/store/0123456789abcdfghijklmnpqrsvwxyz-${name}` as StorePath;

// A profile as buildenv makes it: links into package outputs, followed inside the store root only.
describe("probeDevLayout()", () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), "imageless-dev-layout-"));
    const python = join(root, sp("python-3.12"), "lib", "python3.12", "site-packages");
    await mkdir(python, { recursive: true });
    await mkdir(join(root, sp("jdk"), "bin"), { recursive: true });
    await writeFile(join(root, sp("jdk"), "bin", "java"), "", { mode: 0o755 });
    await mkdir(join(root, sp("python3-3.12.8"), "bin"), { recursive: true });
    await writeFile(join(root, sp("python3-3.12.8"), "bin", "python3.12"), "", { mode: 0o755 });
    await symlink("python3.12", join(root, sp("python3-3.12.8"), "bin", "python3"));
    await mkdir(join(root, sp("cmake"), "bin"), { recursive: true });
    await writeFile(join(root, sp("cmake"), "bin", "cmake"), "", { mode: 0o644 });
    const profile = join(root, sp("env"));
    await mkdir(join(profile, "lib", "python3.11", "site-packages"), { recursive: true });
    await symlink(join(sp("python-3.12"), "lib", "python3.12"), join(profile, "lib", "python3.12"));
    await mkdir(join(profile, "bin"), { recursive: true });
    await symlink(join(sp("jdk"), "bin", "java"), join(profile, "bin", "java"));
    await symlink(join(sp("python3-3.12.8"), "bin", "python3"), join(profile, "bin", "python3"));
    await symlink(join(sp("cmake"), "bin", "cmake"), join(profile, "bin", "cmake"));
    await mkdir(join(profile, "etc", "profile.d"), { recursive: true });
    await writeFile(join(profile, "etc", "profile.d", "b.sh"), "");
    await writeFile(join(profile, "etc", "profile.d", "a.sh"), "");
    await writeFile(join(profile, "etc", "profile.d", "README"), "");
    await mkdir(join(profile, "rustc-std-workspace-std"));
    await mkdir(join(profile, "share"), { recursive: true });
    // A link leaving the store is not followed (it would be the host's directory).
    await symlink("/usr/share", join(profile, "share", "jupyter"));
  });
  after(() => rm(root, { recursive: true, force: true }));

  it("probeDevLayout() follows links into the store: python3 and its version, java, rustLibSrc, profile.d", async () => {
    assert.deepEqual(await probeDevLayout(sp("env"), root), {
      python: { version: "3.12" },
      pythonSitePackages: ["lib/python3.11/site-packages", "lib/python3.12/site-packages"],
      pip3: false,
      cmake: false, // not executable
      jupyter: false,
      java: true,
      rustSrc: true,
      profileScripts: ["a.sh", "b.sh"],
    });
  });
  it("probeDevLayout() reports nothing for a profile without those directories", async () => {
    await mkdir(join(root, sp("empty")), { recursive: true });
    assert.deepEqual(await probeDevLayout(sp("empty"), root), {
      pythonSitePackages: [],
      pip3: false,
      cmake: false,
      jupyter: false,
      java: false,
      rustSrc: false,
      profileScripts: [],
    });
  });
  const versions: [string, string | undefined][] = [
    ["/nix/store/0123456789abcdfghijklmnpqrsvwxyz-python3-3.12.8/bin/python3.12", "3.12"],
    ["/nix/store/0123456789abcdfghijklmnpqrsvwxyz-python3-3.11.9/bin/python3", "3.11"],
    ["/nix/store/0123456789abcdfghijklmnpqrsvwxyz-wrapper/bin/python3", undefined],
  ];
  for (const [path, version] of versions) {
    it(`pythonVersionOf() reads ${version ?? "nothing"} from ${path.slice(44)}`, () => {
      assert.equal(pythonVersionOf(path), version);
    });
  }
});
