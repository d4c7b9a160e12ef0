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
    [join(repoRoot(), "dist", "bench", "run.js"), "--iterations", "1", "--out", out],
    {
      timeout: 600_000,
    },
  );
  const rows = (await readFile(out, "utf8"))
    .split("\n")
    .filter((line) => line.startsWith("| ") && !line.startsWith("| group") && !line.startsWith("| ---"))
    .map((line) => line.split("|").map((cell) => cell.trim()));
  const figures = rows.map((cells) => `${cells[1]}: ${cells[2]}${cells[5] === "" ? "" : " (ratio)"}`);
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
    "hub lookups (16 connections): 404 baseline (the HTTP stack alone)",
    "hub lookups (16 connections): info/refs with a token (live generation) (ratio)",
    "hub lookups (16 connections): GET /api/v1/environments/o/n (ratio)",
  ]);
  for (const cells of rows) if (cells[5] !== "") assert.match(cells[5] ?? "", /^\d+\.\d\d$/);
  // The hub's figures are a rate and a p99 (target column); every answer had the expected status.
  for (const cells of rows.filter((c) => c[1]?.startsWith("hub lookups"))) {
    assert.match(cells[6] ?? "", /^\d+\/s, p99 [\d.]+ ms, hub CPU [\d.]+ ms\/request(;|$)/);
  }
});
