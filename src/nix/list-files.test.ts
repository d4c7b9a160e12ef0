import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { listStorePathFiles, resolveLink } from "./list-files.js";
import type { NixStore } from "./nix-store.js";
import type { StorePath } from "./store-path.js";

const A = "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a" as StorePath;
const B = "/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-b";

describe("listStorePathFiles() never leaves the store", () => {
  let root: string;
  let host: string;
  let store: NixStore;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), "list-files-"));
    // A directory standing for the host's file system outside the store, full of names.
    host = join(root, "host");
    await mkdir(join(host, "secret-dir"), { recursive: true });
    await writeFile(join(host, "secret-dir", "shadow"), "x");
    store = { storeRoot: join(root, "store"), substituters: [], trustedPublicKeys: [], requireSigs: true };
    const a = join(store.storeRoot, A);
    const b = join(store.storeRoot, B);
    await mkdir(join(a, "bin"), { recursive: true });
    await mkdir(join(b, "share"), { recursive: true });
    await writeFile(join(a, "bin", "tool"), "");
    await writeFile(join(b, "share", "data"), "");
    await symlink(join(host, "secret-dir"), join(b, "out"));
    await symlink("share", join(b, "share-link"));
    await symlink(`${B}/share`, join(a, "in-store"));
    await symlink(join(host, "secret-dir"), join(a, "direct-out"));
    await symlink(`${B}/out`, join(a, "two-hops-out"));
    await symlink(`${B}/share-link/data`, join(a, "chain-in"));
    await symlink("../../../../host/secret-dir", join(a, "dotdot-out"));
    await symlink(`${A}/loop`, join(a, "loop"));
    await symlink(`${B}/missing`, join(a, "dangling"));
  });
  after(() => rm(root, { recursive: true, force: true }));

  it("lists links into the store as their targets and links out of it as plain entries", async () => {
    assert.deepEqual(await listStorePathFiles(A, store), [
      "bin/",
      "bin/tool",
      "chain-in",
      "direct-out",
      "dotdot-out",
      "in-store/",
      "in-store/data",
      "loop",
      "two-hops-out",
    ]);
  });

  it("resolveLink() follows every hop in the store's namespace and stops at the edge", async () => {
    assert.equal(await resolveLink(store, `${A}/chain-in`), `${B}/share/data`);
    assert.equal(await resolveLink(store, `${A}/two-hops-out`), undefined);
    assert.equal(await resolveLink(store, `${A}/dotdot-out`), undefined);
    assert.equal(await resolveLink(store, `${A}/loop`), undefined);
  });
});
