import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatPodList, formatStartedPod } from "./format.js";

describe("imageless pod's text output", () => {
  it("pod run: the pod's start, then each container's", () => {
    assert.equal(
      formatStartedPod({
        name: "quotes",
        namespace: "default",
        podId: "0123456789abcdef0123",
        totalMs: 900,
        containers: [
          { name: "load", role: "init", id: "a", startMs: 400, exitCode: 0 },
          { name: "app", role: "app", id: "b", startMs: 300 },
        ],
      }),
      "pod quotes started in 900 ms (sandbox 0123456789ab)\n  init container load: started in 400 ms, exited 0\n  app container app: started in 300 ms",
    );
  });

  it("pod ls: a column per field, or no pods", () => {
    assert.equal(
      formatPodList([
        {
          namespace: "default",
          name: "quotes",
          environment: "demo/quotes",
          containers: ["load=exited", "app=running"],
        },
        { namespace: "default", name: "plain", environment: "", containers: [] },
      ]),
      [
        "POD             ENVIRONMENT  CONTAINERS",
        "default/quotes  demo/quotes  load=exited app=running",
        "default/plain   -",
      ].join("\n"),
    );
    assert.equal(formatPodList([]), "no pods");
  });
});
