import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { copiedPaths } from "./realise.js";

describe("copiedPaths()", () => {
  it("lists the paths of Nix's copying lines and nothing else", () => {
    const a = "/nix/store/00000000000000000000000000000000-a";
    const b = "/nix/store/11111111111111111111111111111111-b";
    const stderr = `these 2 paths will be fetched (0.1 MiB download):\n  ${a}\n  ${b}\ncopying path '${a}' from 'http://c'...\ncopying path '${b}' from 'file:///d'...\nwarning: you did not specify '--add-root'\n`;
    assert.deepEqual(copiedPaths(stderr), [a, b]);
  });
});
