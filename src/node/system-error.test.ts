import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { systemErrorLine } from "./system-error.js";

const errno = (code: string, path?: string) =>
  Object.assign(new Error(`${code}: x`), { code, ...(path === undefined ? {} : { path }) });

describe("systemErrorLine()", () => {
  it("explains a full disk, with the path when Node gives one", () => {
    assert.equal(
      systemErrorLine(errno("ENOSPC", "/var/lib/imageless/containers/.tmp-1")),
      "no space left on the node's disk writing /var/lib/imageless/containers/.tmp-1: free space under [runtime] state-dir and [nix] store-root, then start the pod again (nothing half-written is used)",
    );
    assert.match(systemErrorLine(errno("EDQUOT")) ?? "", /^no space left on the node's disk: /);
  });
  it("leaves other errors to their owners", () => {
    assert.equal(systemErrorLine(errno("ENOENT", "/x")), undefined);
    assert.equal(systemErrorLine(new Error("plain")), undefined);
    assert.equal(systemErrorLine("text"), undefined);
  });
});
