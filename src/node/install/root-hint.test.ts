import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ImagelessError } from "../../errors/imageless-error.js";
import { withRootHint } from "./root-hint.js";

const fsError = (code: string, path: string) => Object.assign(new Error(`${code}: ${path}`), { code, path });

describe("withRootHint()", () => {
  it("turns a permission error into one line saying to run as root", () => {
    const hinted = withRootHint(fsError("EACCES", "/etc/containerd/config.toml"), "install");
    assert.ok(hinted instanceof ImagelessError);
    assert.deepEqual(
      [hinted.kind, hinted.message],
      [
        "failed-precondition",
        "cannot write /etc/containerd/config.toml: permission denied: run `imageless node install` as root",
      ],
    );
  });
  it("names a read-only host root", () => {
    const hinted = withRootHint(fsError("EROFS", "/host/opt/imageless"), "install");
    assert.equal(
      (hinted as Error).message,
      "cannot write /host/opt/imageless: read-only file system: run `imageless node install` as root on a writable host root",
    );
  });
  it("leaves every other error as it is", () => {
    const other = fsError("ENOSPC", "/x");
    assert.equal(withRootHint(other, "install"), other);
    assert.equal(withRootHint("text", "install"), "text");
  });
});
