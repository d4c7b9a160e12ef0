import assert from "node:assert/strict";
import { it } from "node:test";
import { groupFiles } from "../../bench/host-packages.js";

const file = (name: string, size: number) => ({ path: `/usr/lib/x86_64-linux-gnu/${name}`, size });

it("groupFiles fills each group in order up to its size with files no earlier group took", () => {
  const files = [file("a", 60), file("b", 50), file("c", 40), file("d", 10), file("e", 30), file("f", 5)];
  assert.deepEqual(groupFiles(files, [100, 60]), [
    [file("a", 60), file("c", 40)],
    [file("b", 50), file("d", 10)],
  ]);
});

it("groupFiles leaves a group empty when the files run out", () => {
  assert.deepEqual(groupFiles([file("a", 10)], [10, 10]), [[file("a", 10)], []]);
});
