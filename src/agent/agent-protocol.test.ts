import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isErrorKind } from "../errors/imageless-error.js";
import { formatAgentReply, parseAgentRequest } from "./agent-protocol.js";

describe("parseAgentRequest()", () => {
  it("reads the cwd, forwarded variables and every argument in order", () => {
    const wire = "C/run/b\0EFLOX_DISABLE_METRICS=true\0A--log\0A/b/log.json\0Aexec\0A-p\0A/tmp/p\0Aabc\0A\0";
    assert.deepEqual(parseAgentRequest(Buffer.from(wire)), {
      cwd: "/run/b",
      env: { FLOX_DISABLE_METRICS: "true" },
      argv: ["--log", "/b/log.json", "exec", "-p", "/tmp/p", "abc", ""],
    });
  });

  it("keeps only the variables it forwards", () => {
    const got = parseAgentRequest(Buffer.from("C/\0EPATH=/x\0EFLOX_DISABLE_METRICS=a=b\0"));
    assert.deepEqual(got, { cwd: "/", env: { FLOX_DISABLE_METRICS: "a=b" }, argv: [] });
  });

  const bad: ReadonlyArray<readonly [string, string, RegExp]> = [
    ["empty", "", /not NUL-terminated/],
    ["unterminated", "C/\0Aabc", /not NUL-terminated/],
    ["an unknown tag", "C/\0Xabc\0", /field tag "X", accepted are "C", "E" and "A"/],
    ["no cwd", "Acreate\0", /no absolute cwd/],
    ["a relative cwd", "Cbundle\0", /no absolute cwd/],
  ];
  for (const [name, wire, message] of bad) {
    it(`refuses ${name} as invalid-input`, () => {
      assert.throws(
        () => parseAgentRequest(Buffer.from(wire)),
        (error: unknown) => isErrorKind(error, "invalid-input") && message.test(error.message),
      );
    });
  }
});

describe("formatAgentReply()", () => {
  it("answers run, or fail with the message on one line", () => {
    assert.equal(formatAgentReply({ kind: "run" }), "run\n");
    assert.equal(formatAgentReply({ kind: "fail", message: "a\nb\r\nc" }), "fail a b c\n");
  });
  it("puts the container's log lines first, one line each", () => {
    assert.equal(
      formatAgentReply({ kind: "run", containerOutput: ["flox: [services] not started: redis", "x\ny"] }),
      "out flox: [services] not started: redis\nout x y\nrun\n",
    );
  });
});
