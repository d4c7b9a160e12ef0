import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { nullLogger } from "../log/logger.js";
import { claimContainer, statePaths } from "./container-state.js";
import { formatIdentity } from "./process-identity.js";
import { releaseContainer, sweepAbandoned } from "./release.js";

/** What a create leaves on the node once it has its GC root and env cache. */
async function leaveState(stateDir: string, id: string): Promise<void> {
  const paths = statePaths(stateDir, id);
  await mkdir(join(stateDir, "gcroots"), { recursive: true });
  await symlink("/nix/store/00000000000000000000000000000000-env", paths.gcRoot);
  await mkdir(paths.envCache, { recursive: true });
}

/** A pid that ran and is gone (with the start time it had, as a killed create's claim holds it). */
function deadProcessClaim(): string {
  const child = spawnSync("sh", ["-c", "echo $$ $(cut -d' ' -f22 /proc/$$/stat)"], { encoding: "utf8" });
  const [pid, startTime] = child.stdout.trim().split(" ");
  return formatIdentity({ pid: Number(pid), startTime: startTime ?? "" });
}

describe("sweepAbandoned()", () => {
  let stateDir: string;
  const deps = () => ({
    stateDir,
    log: nullLogger,
    removeGcRoot: (link: string) => rm(link, { force: true }),
  });
  before(async () => {
    stateDir = await mkdtemp(join(tmpdir(), "sweep-"));
  });
  after(() => rm(stateDir, { recursive: true, force: true }));

  it("drops the state of a create whose process died, and keeps one still running", async () => {
    await leaveState(stateDir, "killed");
    await mkdir(statePaths(stateDir, "").claims, { recursive: true });
    await writeFile(statePaths(stateDir, "killed").claim, deadProcessClaim());
    await leaveState(stateDir, "running");
    await claimContainer(stateDir, "running"); // this process: alive
    assert.deepEqual(await sweepAbandoned(deps()), ["killed"]);
    assert.deepEqual(await readdir(join(stateDir, "gcroots")), ["running"]);
    assert.deepEqual(await readdir(join(stateDir, "env-cache")), ["running"]);
    assert.deepEqual(await readdir(statePaths(stateDir, "").claims), ["running"]);
  });

  it("treats a torn claim as abandoned", async () => {
    await leaveState(stateDir, "torn");
    await writeFile(statePaths(stateDir, "torn").claim, "12");
    assert.deepEqual(await sweepAbandoned(deps()), ["torn"]);
    assert.ok(!existsSync(statePaths(stateDir, "torn").gcRoot));
  });
});

describe("releaseContainer()", () => {
  it("drops GC root and env cache of a container that has no record (create killed before it)", async () => {
    const stateDir = await mkdtemp(join(tmpdir(), "release-"));
    try {
      await leaveState(stateDir, "c1");
      await releaseContainer("c1", {
        stateDir,
        log: nullLogger,
        removeGcRoot: (l) => rm(l, { force: true }),
      });
      assert.deepEqual(await readdir(join(stateDir, "gcroots")), []);
      assert.deepEqual(await readdir(join(stateDir, "env-cache")), []);
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });

  it("drops everything of a container whose record a machine crash left empty (records are not fsync'd)", async () => {
    const stateDir = await mkdtemp(join(tmpdir(), "release-"));
    try {
      await leaveState(stateDir, "c2");
      await mkdir(join(stateDir, "containers"), { recursive: true });
      await writeFile(statePaths(stateDir, "c2").record, "");
      await releaseContainer("c2", {
        stateDir,
        log: nullLogger,
        removeGcRoot: (l) => rm(l, { force: true }),
      });
      assert.deepEqual(await readdir(join(stateDir, "gcroots")), []);
      assert.deepEqual(await readdir(join(stateDir, "env-cache")), []);
      assert.deepEqual(await readdir(join(stateDir, "containers")), []);
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});
