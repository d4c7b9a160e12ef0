/**
 * Thirty simultaneous starts of one environment that is on no node yet, on a fresh store root: every
 * one succeeds and every store path is downloaded once (counted at the cache). The first use of a
 * store root used to fail some of them ("…/nix/var/nix/db/schema is corrupt", "db.sqlite is busy").
 * bench/first-use-race.ts repeats this 10 times; the suite does it twice.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type BinaryCacheServer, serveBinaryCache } from "../harness/binary-cache-server.js";
import { concurrentFirstStarts } from "../harness/concurrent-starts.js";
import { helloGeneration } from "../harness/flox-envs.js";
import { writeFloxmeta } from "../harness/floxmeta-fixture.js";
import { buildFixturePackages, type Fixtures } from "../harness/nix-fixtures.js";
import { makeTempDir, removeTree } from "../harness/temp.js";

const STARTS = 30;
const REPETITIONS = 2;

let work: string;
let fixtures: Fixtures;
let cache: BinaryCacheServer;

before(async () => {
  work = await makeTempDir("race");
  fixtures = await buildFixturePackages(join(work, "fixtures"));
  const { hello, coreutils } = fixtures.packages;
  await writeFloxmeta(join(work, "floxmeta"), "acme", [
    { name: "race", generations: [helloGeneration({ hello, coreutils })] },
  ]);
  cache = await serveBinaryCache(fixtures.cacheDir, { narDelayMs: 200 });
});

after(async () => {
  await cache?.close();
  await removeTree(work);
});

describe(`${STARTS} simultaneous starts of an uncached environment on a fresh store root`, () => {
  for (let round = 1; round <= REPETITIONS; round++) {
    // Odd rounds: the node holds the floxmeta already, so all starts reach Nix at once.
    const warmGit = round % 2 === 1;
    it(`all start and each store path is downloaded once (round ${round}, floxmeta ${warmGit ? "on the node" : "fetched"})`, async () => {
      const result = await concurrentFirstStarts({
        dir: join(work, `round-${round}`),
        starts: STARTS,
        cache,
        fixtures,
        gitUrl: `file://${join(work, "floxmeta")}`,
        env: "acme/race:1",
        warmGit,
      });
      const failed = result.runs.filter((run) => run.code !== 0);
      assert.deepEqual(
        failed.map((run) => run.log),
        [],
        `${failed.length} of ${STARTS} starts failed`,
      );
      // hello, coreutils and what they reference: each nar fetched exactly once.
      assert.ok(result.narRequests.size >= 2, JSON.stringify([...result.narRequests]));
      assert.deepEqual(
        [...result.narRequests].filter(([, count]) => count !== 1),
        [],
        "nars fetched more than once",
      );
      const profiles = new Set(result.runs.map((run) => run.storePath));
      assert.equal(profiles.size, 1, "every start runs the same profile");
      assert.match(await readFile(join(result.storeRoot, "nix/var/nix/db/schema"), "utf8"), /^\d+$/);
    });
  }
});
