/**
 * The hub's live-generation lookups under load (bench/hub-lookups.ts): the 404 baseline, `GET
 * /git/<owner>/floxmeta/info/refs?service=git-upload-pack` with a token, as every container start
 * sends it, and `GET /api/v1/environments/<owner>/<name>`, from a bounded pool of kept-alive
 * connections on loopback. Prints requests/s, p50, p99 and CPU per request.
 *
 *   node dist/bench/hub-refs.js [seconds=10] [connections=16]
 */
import { loadavg } from "node:os";
import { describeLoad, measureHubLookups } from "./hub-lookups.js";

const seconds = Number(process.argv[2] ?? 10);
const connections = Number(process.argv[3] ?? 16);
const before = loadavg()[0] ?? 0;
for (const result of await measureHubLookups({ seconds, connections })) {
  process.stdout.write(`${describeLoad(result, connections)}\n`);
}
process.stdout.write(
  `load average (1 min) before ${before.toFixed(2)}, after ${(loadavg()[0] ?? 0).toFixed(2)}\n`,
);
