import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { SelectedPackage } from "../environment/lockfile.js";
import type { StorePath } from "../nix/store-path.js";
import { packagesForMode } from "./start.js";

const out = "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-lib-1.0" as StorePath;
const dev = "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-lib-1.0-dev" as StorePath;
const lib: SelectedPackage = {
  installId: "lib",
  kind: "catalog",
  priority: 5,
  group: "toplevel",
  outputs: { out },
  allOutputs: { out, dev },
};

describe("packagesForMode()", () => {
  it("packagesForMode() links the selected outputs in run mode", () => {
    assert.deepEqual(packagesForMode([lib], "run"), [lib]);
  });
  it("packagesForMode() links every output in dev mode", () => {
    assert.deepEqual(packagesForMode([lib], "dev")[0]?.outputs, { out, dev });
    assert.deepEqual(lib.outputs, { out }, "the input is not changed");
  });
});
