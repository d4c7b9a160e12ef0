import assert from "node:assert/strict";
import { it } from "node:test";
import { setImmediate as nextTurn } from "node:timers/promises";
import { coalescingSink, createLogger } from "./logger.js";

it("coalescingSink() writes the lines of one event-loop turn in one write, in order", async () => {
  const writes: string[] = [];
  const log = createLogger(
    coalescingSink((text) => writes.push(text)),
    { component: "hub" },
  );
  log.info("a");
  log.info("b");
  assert.equal(writes.length, 0);
  await nextTurn();
  log.info("c");
  await nextTurn();
  assert.deepEqual(
    writes.map((text) =>
      text
        .trimEnd()
        .split("\n")
        .map((line) => (JSON.parse(line) as { event: string }).event),
    ),
    [["a", "b"], ["c"]],
  );
});
