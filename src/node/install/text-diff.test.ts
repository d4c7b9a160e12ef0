import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { unifiedDiff } from "./text-diff.js";

describe("unifiedDiff()", () => {
  const names = { from: "a", to: "b" };
  it("prints nothing for equal texts", () => assert.equal(unifiedDiff("x\n", "x\n", names), ""));
  it("shows an append with three lines of context", () => {
    assert.equal(
      unifiedDiff("1\n2\n3\n4\n5\n", "1\n2\n3\n4\n5\n\nnew\n", names),
      "--- a\n+++ b\n@@ -3,3 +3,5 @@\n 3\n 4\n 5\n+\n+new\n",
    );
  });
  it("keeps separate hunks for changes far apart", () => {
    const before = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n";
    const after = "A\nb\nc\nd\ne\nf\ng\nh\ni\nJ\n";
    assert.equal(
      unifiedDiff(before, after, names),
      "--- a\n+++ b\n@@ -1,4 +1,4 @@\n-a\n+A\n b\n c\n d\n@@ -7,4 +7,4 @@\n g\n h\n i\n-j\n+J\n",
    );
  });
  it("diffs a created file against nothing", () => {
    assert.equal(unifiedDiff("", "x\ny\n", names), "--- a\n+++ b\n@@ -0,0 +1,2 @@\n+x\n+y\n");
  });
});
