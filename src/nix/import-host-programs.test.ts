import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseLddOutput } from "./import-host-programs.js";

describe("parseLddOutput()", () => {
  it("lists every library and the loader, not the vDSO", () => {
    const text = [
      "\tlinux-vdso.so.1 (0x00007ffd5a3e2000)",
      "\tlibtinfo.so.6 => /lib/x86_64-linux-gnu/libtinfo.so.6 (0x00007f0b9c1a0000)",
      "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f0b9bfbf000)",
      "\t/lib64/ld-linux-x86-64.so.2 (0x00007f0b9c1e0000)",
    ].join("\n");
    assert.deepEqual(parseLddOutput(text), [
      "/lib/x86_64-linux-gnu/libtinfo.so.6",
      "/lib/x86_64-linux-gnu/libc.so.6",
      "/lib64/ld-linux-x86-64.so.2",
    ]);
  });
});
