/**
 * The first-use race, repeated: `starts` simultaneous `imageless-runc create` of one uncached
 * environment on a fresh store root, `rounds` times (alternating a node that already holds the
 * floxmeta and one that fetches it). Prints per round how many started and the most GETs of one nar.
 * The suite runs 2 rounds (test/integration/concurrent-starts.test.ts); this runs 10.
 *
 *   node dist/bench/first-use-race.js [rounds=10] [starts=30]
 */
import { join } from "node:path";
import { serveBinaryCache } from "../test/harness/binary-cache-server.js";
import { concurrentFirstStarts } from "../test/harness/concurrent-starts.js";
import { helloGeneration } from "../test/harness/flox-envs.js";
import { writeFloxmeta } from "../test/harness/floxmeta-fixture.js";
import { buildFixturePackages } from "../test/harness/nix-fixtures.js";
import { makeTempDir, removeTree } from "../test/harness/temp.js";

const rounds = Number(process.argv[2] ?? 10);
const starts = Number(process.argv[3] ?? 30);

async function main(): Promise<void> {
  const work = await makeTempDir("bench-race");
  const fixtures = await buildFixturePackages(join(work, "fixtures"));
  const cache = await serveBinaryCache(fixtures.cacheDir, { narDelayMs: 200 });
  let failedRounds = 0;
  try {
    const { hello, coreutils } = fixtures.packages;
    await writeFloxmeta(join(work, "floxmeta"), "acme", [
      { name: "race", generations: [helloGeneration({ hello, coreutils })] },
    ]);
    for (let round = 1; round <= rounds; round++) {
      const started = performance.now();
      const result = await concurrentFirstStarts({
        dir: join(work, `round-${round}`),
        starts,
        cache,
        fixtures,
        gitUrl: `file://${join(work, "floxmeta")}`,
        env: "acme/race:1",
        warmGit: round % 2 === 1,
      });
      const ok = result.runs.filter((run) => run.code === 0).length;
      const most = Math.max(0, ...result.narRequests.values());
      if (ok !== starts || most !== 1) failedRounds++;
      process.stdout.write(
        `round ${round}: ${ok}/${starts} started, ${result.narRequests.size} nars, at most ${most} GET per nar, ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
      );
      for (const run of result.runs) if (run.code !== 0) process.stdout.write(`  ${run.log.trim()}\n`);
      await removeTree(join(work, `round-${round}`));
    }
  } finally {
    await cache.close();
    await removeTree(work);
  }
  process.stdout.write(`${rounds - failedRounds}/${rounds} rounds clean\n`);
  if (failedRounds > 0) process.exitCode = 1;
}

await main();
