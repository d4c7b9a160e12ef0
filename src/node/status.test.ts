import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { StorePath } from "../nix/store-path.js";
import type { ContainerRecord } from "./container-state.js";
import { formatBytes, formatNodeStatus, groupEnvironments } from "./status.js";

const path = (c: string) => `/nix/store/${c.repeat(32)}-imageless-profile` as StorePath;
const record = (id: string, name: string, env: string, generation: number, c: string): ContainerRecord => ({
  version: 1,
  containerId: id,
  containerName: name,
  environment: env,
  generation,
  storePath: path(c),
  skipExec: false,
  // Not read by status.
  activation: {} as ContainerRecord["activation"],
  createdAt: "2026-01-01T00:00:00.000Z",
});

describe("groupEnvironments()", () => {
  it("groups containers by profile, lists identical generations together and unused profiles empty", () => {
    const groups = groupEnvironments(
      [
        record("1", "web", "acme/web", 3, "b"),
        record("2", "worker", "acme/web", 3, "b"),
        record("3", "api", "acme/api", 1, "c"),
      ],
      [
        { key: "k1", storePath: path("a"), lastUsedMs: 0 },
        { key: "k2", storePath: path("b"), lastUsedMs: 1000 },
      ],
    );
    assert.deepEqual(groups, [
      { storePath: path("a"), refs: [], containers: [], lastUsedMs: 0 },
      {
        storePath: path("b"),
        refs: ["acme/web:3"],
        containers: [
          { id: "1", name: "web" },
          { id: "2", name: "worker" },
        ],
        lastUsedMs: 1000,
      },
      { storePath: path("c"), refs: ["acme/api:1"], containers: [{ id: "3", name: "api" }] },
    ]);
  });
});

describe("formatNodeStatus()", () => {
  it("prints each environment with its store path, closure size and containers, then the disk used", () => {
    assert.equal(
      formatNodeStatus({
        environments: [
          {
            refs: ["acme/web:3"],
            storePath: path("b"),
            containers: [{ id: "0123456789abcdef", name: "web" }],
            closureBytes: 5 * 1024 * 1024,
            lastUsed: undefined,
          },
          {
            refs: [],
            storePath: path("a"),
            containers: [],
            closureBytes: undefined,
            lastUsed: "2026-01-01T00:00:00.000Z",
          },
        ],
        diskBytes: 5 * 1024 * 1024,
      }),
      [
        "acme/web:3",
        `  store path: ${path("b")}`,
        "  closure: 5.0 MiB",
        "  containers: web (0123456789ab)",
        "(no container uses it)",
        `  store path: ${path("a")}`,
        "  closure: not in the store",
        "  last used: 2026-01-01T00:00:00.000Z",
        "  containers: none",
        "disk used by these closures: 5.0 MiB",
        "",
      ].join("\n"),
    );
    assert.equal(formatNodeStatus({ environments: [], diskBytes: 0 }), "no Flox environments on this node\n");
  });
  it("formatBytes() uses binary units", () => {
    assert.deepEqual(
      [formatBytes(0), formatBytes(1023), formatBytes(1536), formatBytes(3 * 1024 ** 3)],
      ["0 B", "1023 B", "1.5 KiB", "3.0 GiB"],
    );
  });
});
