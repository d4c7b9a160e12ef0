import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  currentProcess,
  formatIdentity,
  isRunning,
  parseIdentity,
  startTimeFromStat,
} from "./process-identity.js";

describe("process identity", () => {
  it("startTimeFromStat() reads field 22 past a command name with spaces and parentheses", () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    assert.equal(startTimeFromStat(`123 (a b) c)) ${fields.join(" ")}`), "22");
  });
  it("formatIdentity() and parseIdentity() round-trip; torn text is undefined", () => {
    assert.deepEqual(parseIdentity(formatIdentity({ pid: 7, startTime: "99" })), { pid: 7, startTime: "99" });
    for (const torn of ["", "7", "7 ", "x 9\n", "7 9 1\n"]) assert.equal(parseIdentity(torn), undefined);
  });
  it("isRunning() knows this process, and not this pid with another start time", async () => {
    const me = currentProcess();
    assert.equal(await isRunning(me), true);
    assert.equal(await isRunning({ ...me, startTime: `${me.startTime}0` }), false);
  });
});
