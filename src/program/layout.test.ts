import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { currentLayout, HiddenCommand, type Layout, selfInvocation, wrapperPath } from "./layout.js";

const executable: Layout = { kind: "single-executable", executable: "/opt/imageless/bin/imageless-node" };
const dist: Layout = {
  kind: "dist",
  node: "/usr/bin/node",
  entry: "/src/imageless/dist/src/main/imageless.js",
  binDir: "/src/imageless/bin",
};

describe("selfInvocation()", () => {
  it("runs the single executable itself with the hidden subcommand, and dist's entry under the same node", () => {
    assert.deepEqual(selfInvocation(executable, HiddenCommand.sendTelemetry, ["/var/lib/imageless"]), {
      program: "/opt/imageless/bin/imageless-node",
      args: ["__send-telemetry", "/var/lib/imageless"],
    });
    assert.deepEqual(selfInvocation(dist, HiddenCommand.runc, ["create", "abc"]), {
      program: "/usr/bin/node",
      args: ["/src/imageless/dist/src/main/imageless.js", "__runc", "create", "abc"],
    });
  });
});

describe("wrapperPath()", () => {
  it("finds the dispatcher beside the single executable, or in the checkout's bin/", () => {
    assert.equal(wrapperPath(executable), "/opt/imageless/bin/imageless-runc");
    assert.equal(wrapperPath(dist), "/src/imageless/bin/imageless-runc");
  });
});

describe("currentLayout()", () => {
  it("is dist/ under this node when the tests run from the build", () => {
    const layout = currentLayout();
    assert.equal(layout.kind, "dist");
    assert.equal(layout.kind === "dist" && layout.node, process.execPath);
    assert.match(layout.kind === "dist" ? layout.entry : "", /\/dist\/src\/main\/imageless\.js$/);
    assert.match(layout.kind === "dist" ? layout.binDir : "", /[^/]\/bin$/);
  });
});
