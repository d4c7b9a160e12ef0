import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { planRestart, type RestartFacts } from "./restart.js";

const facts = (over: Partial<RestartFacts>): RestartFacts => ({
  flavour: "containerd",
  hostRoot: "/",
  units: ["containerd"],
  hasSystemctl: true,
  hasNsenter: true,
  ...over,
});

describe("planRestart()", () => {
  const manual = (unit: string, what = "containerd") =>
    `restart ${what} to load the new config: systemctl restart ${unit} (or your init system's equivalent)`;
  const cases: [string, Partial<RestartFacts>, ReturnType<typeof planRestart>][] = [
    [
      "systemctl on the node",
      {},
      { kind: "run", argv: ["systemctl", "restart", "containerd"], unit: "containerd" },
    ],
    [
      "the DaemonSet: nsenter into the host",
      { hostRoot: "/host" },
      {
        kind: "run",
        argv: [
          "nsenter",
          "--target",
          "1",
          "--mount",
          "--uts",
          "--ipc",
          "--net",
          "--pid",
          "--",
          "systemctl",
          "restart",
          "containerd",
        ],
        unit: "containerd",
      },
    ],
    [
      "k3s agent",
      { flavour: "k3s", units: ["k3s-agent"] },
      { kind: "run", argv: ["systemctl", "restart", "k3s-agent"], unit: "k3s-agent" },
    ],
    [
      "k3s server",
      { flavour: "k3s", units: ["k3s"] },
      { kind: "run", argv: ["systemctl", "restart", "k3s"], unit: "k3s" },
    ],
    ["no systemd", { hasSystemctl: false }, { kind: "manual", message: manual("containerd") }],
    ["no unit file", { units: [] }, { kind: "manual", message: manual("containerd") }],
    [
      "a container without nsenter",
      { hostRoot: "/host", hasNsenter: false },
      { kind: "manual", message: manual("containerd") },
    ],
    [
      "k3s without systemd",
      { flavour: "k3s", hasSystemctl: false },
      { kind: "manual", message: manual("k3s", "k3s") },
    ],
  ];
  for (const [name, over, expected] of cases) {
    it(`plans ${name}`, () => assert.deepEqual(planRestart(facts(over)), expected));
  }
});
