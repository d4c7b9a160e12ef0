/** bench/run, once per figure: the benchmark keeps working (its numbers are not checked here). */
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
    // A 5 MB environment and 3 for the disk figure: the registry pulls, the hub's cache and the disk
    // figure run, but quickly.
    [
      join(repoRoot(), "dist", "bench", "run.js"),
      "--iterations",
      "1",
      "--env-mb",
      "5",
      "--disk-envs",
      "3",
      "--out",
      out,
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
  const figures = rows.map((cells) => `${group(cells)}: ${cells[2]}${cells[5] === "" ? "" : " (ratio)"}`);
  assert.deepEqual(figures, [
    "warm start: runc handler (baseline, agent stopped)",
    "warm start: flox pinned, agent stopped (ratio)",
    "warm start: flox unpinned, agent stopped (ratio)",
    "ExecSync `sh -c :`: plain container (baseline, agent stopped)",
    "ExecSync `sh -c :`: Flox container, agent stopped (ratio)",
    "warm start: runc handler (baseline, agent running)",
    "warm start: flox pinned, agent running (ratio)",
    "warm start: flox unpinned, agent running (ratio)",
    "ExecSync `sh -c :`: plain container (baseline, agent running)",
    "ExecSync `sh -c :`: Flox container, agent running (ratio)",
    "pass-through: runc `--version` (baseline)",
    "pass-through: imageless-runc `--version` (ratio)",
    "pass-through: runc `state <missing>` (baseline)",
    "pass-through: imageless-runc `state <missing>` (ratio)",
    "pass-through: runc `delete <unmodified>` (baseline)",
    "pass-through: imageless-runc `delete <unmodified>` (ratio)",
    "cold start, N MB in N store paths: image pull (local registry, gzip) + create + start (baseline)",
    "cold start, N MB in N store paths: flox: create + start, closure from the hub's zstd cache (ratio)",
    "disk, 3 environments sharing a base: images, one layer each (baseline: a Dockerfile per app)",
    "disk, 3 environments sharing a base: flox: node Nix store (ratio)",
    "disk, 3 environments sharing a base: images, shared base image + app layer (baseline)",
    "disk, 3 environments sharing a base: flox: node Nix store, vs shared-base images (ratio)",
  ]);
  for (const cells of rows) if (cells[5] !== "") assert.match(cells[5] ?? "", /^\d+\.\d\d$/);
});
