/**
 * bench/run, once per figure: the benchmark keeps working (its numbers are not checked here). The
 * scale figures run the same code with fewer pods (3 at once instead of 20) and containers (5 instead
 * of 50), so the smoke run stays short.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { promisify } from "node:util";
import { repoRoot } from "../harness/repo-root.js";
import { makeTempDir, removeTree } from "../harness/temp.js";

const run = promisify(execFile);
let dir = "";
before(async () => {
  dir = await makeTempDir("bench-smoke");
});
after(async () => {
  await removeTree(dir);
});

it("bench/run writes every figure with its ratio against a baseline of the same run", async () => {
  const out = join(dir, "RESULTS.md");
  await run(
    process.execPath,
    [
      join(repoRoot(), "dist", "bench", "run.js"),
      ...["--iterations", "1", "--pods", "3", "--containers", "5", "--out", out],
      // A 5 MB environment and 3 disk environments: the registry pulls, the hub's cache and the disk
      // figure run, but quickly.
      ...["--env-mb", "5", "--disk-envs", "3"],
    ],
    {
      timeout: 600_000,
    },
  );
  const rows = (await readFile(out, "utf8"))
    .split("\n")
    .filter((line) => line.startsWith("| ") && !line.startsWith("| group") && !line.startsWith("| ---"))
    .map((line) => line.split("|").map((cell) => cell.trim()));
  // The cold-start group names the closure's measured size, which depends on this machine's libraries.
  const group = (cells: string[]) =>
    (cells[1] ?? "").replace(/[\d.]+ MB in \d+ store paths/, "N MB in N store paths");
  const figures = rows.map(
    (cells) =>
      `${group(cells)}: ${cells[2]}${cells[5] === "" ? "" : " (ratio)"}${cells[6] === "" ? "" : " (target)"}`,
  );
  assert.deepEqual(figures, [
    "warm start: runc handler (baseline, agent stopped)",
    "cold start: flox, first start on the node, agent stopped (ratio)",
    "warm start: flox pinned, agent stopped (ratio) (target)",
    "warm start: flox unpinned, agent stopped (ratio) (target)",
    "ExecSync `sh -c :`: plain container (baseline, agent stopped)",
    "ExecSync `sh -c :`: Flox container, agent stopped (ratio) (target)",
    "warm start: runc handler (baseline, agent running)",
    "warm start: flox pinned, agent running (ratio) (target)",
    "warm start: flox unpinned, agent running (ratio) (target)",
    "ExecSync `sh -c :`: plain container (baseline, agent running)",
    "ExecSync `sh -c :`: Flox container, agent running (ratio) (target)",
    'store mount: flox pinned, mount = "store" (baseline, agent running)',
    'store mount: flox pinned, mount = "closure", agent running (ratio)',
    "pass-through: runc `--version` (baseline)",
    "pass-through: imageless-runc `--version` (ratio) (target)",
    "pass-through: runc `state <missing>` (baseline)",
    "pass-through: imageless-runc `state <missing>` (ratio) (target)",
    "pass-through: runc `delete <unmodified>` (baseline)",
    "pass-through: imageless-runc `delete <unmodified>` (ratio) (target)",
    "3 pods at once: runc handler, busybox image present (baseline, wall time)",
    "3 pods at once: flox, uncached environment, agent running (wall time) (ratio)",
    "3 pods at once: flox: most downloads of one store path (target)",
    "node agent memory: VmRSS idle (environment on the node, no containers; baseline)",
    "node agent memory: VmHWM idle (peak since the agent started)",
    "node agent memory: VmRSS with 5 running Flox containers (ratio) (target)",
    "node agent memory: VmHWM with 5 running Flox containers (ratio) (target)",
    "cold start vs image pull, N MB in N store paths: image pull (local registry, gzip) + create + start (baseline)",
    "cold start vs image pull, N MB in N store paths: flox: create + start, closure from the hub's zstd cache (ratio) (target)",
    "disk, 3 environments sharing a base: images, one layer each (baseline: a Dockerfile per app)",
    "disk, 3 environments sharing a base: flox: node Nix store (ratio) (target)",
    "disk, 3 environments sharing a base: images, shared base image + app layer (baseline)",
    "disk, 3 environments sharing a base: flox: node Nix store, vs shared-base images (ratio)",
    "hub lookups (16 connections): 404 baseline (the HTTP stack alone) (target)",
    "hub lookups (16 connections): info/refs with a token (live generation) (ratio) (target)",
    "hub lookups (16 connections): GET /api/v1/environments/o/n (ratio) (target)",
  ]);
  for (const cells of rows) if (cells[5] !== "") assert.match(cells[5] ?? "", /^\d+\.\d\d$/);
  // Each of the 3 pods fetched every store path it needed, and no path twice (the figure's point).
  const downloads = rows.find((cells) => cells[2] === "flox: most downloads of one store path");
  assert.equal(downloads?.[3], "1");
  // The hub's figures are a rate and a p99 (target column); every answer had the expected status.
  for (const cells of rows.filter((c) => c[1]?.startsWith("hub lookups"))) {
    assert.match(cells[6] ?? "", /^\d+\/s, p99 [\d.]+ ms, hub CPU [\d.]+ ms\/request(;|$)/);
  }
});
