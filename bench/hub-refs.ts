/**
 * The hub's live-generation lookups under load: `GET /git/<owner>/floxmeta/info/refs?service=
 * git-upload-pack` with a token, as every container start sends it (src/floxhub/ref-advertisement-
 * client.ts), from a bounded pool of kept-alive connections on loopback. Prints requests/s, p50, p99.
 *
 *   node dist/bench/hub-refs.js [seconds=10] [connections=16]
 */
import { execFile } from "node:child_process";
import { Agent, request } from "node:http";
import { join } from "node:path";
import { promisify } from "node:util";
import { floxmetaPath, writeFloxmeta } from "../test/harness/floxmeta-fixture.js";
import { startHubProcess } from "../test/harness/hub.js";
import { makeTempDir, removeTree } from "../test/harness/temp.js";
import { summarise } from "./results.js";

const run = promisify(execFile);
const seconds = Number(process.argv[2] ?? 10);
const connections = Number(process.argv[3] ?? 16);

const manifest = "version = 1\n\n[install]\n";
const generation = { manifestToml: manifest, lock: { "lockfile-version": 1, manifest: {}, packages: [] } };

function get(url: URL, agent: Agent, authorization: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers: { authorization } }, (res) => {
      res.resume();
      res.once("end", () => resolve(res.statusCode ?? 0));
    });
    req.once("error", reject);
    req.end();
  });
}

async function main(): Promise<void> {
  const work = await makeTempDir("hub-refs");
  const hub = await startHubProcess();
  try {
    await writeFloxmeta(join(work, "local"), "admin", [{ name: "bench", generations: [generation] }]);
    const host = new URL(hub.url).host;
    await run("git", [
      "--git-dir",
      floxmetaPath(join(work, "local"), "admin"),
      "push",
      "--quiet",
      `http://oauth:${hub.adminToken}@${host}/git/admin/floxmeta`,
      "bench",
    ]);
    const authorization = `Basic ${Buffer.from(`oauth:${hub.adminToken}`).toString("base64")}`;
    // Baseline: the same load on a path the hub answers 404 without work, i.e. the HTTP stack alone.
    for (const [label, path] of [
      ["404 baseline", "/git/none"],
      ["info/refs", "/git/admin/floxmeta/info/refs?service=git-upload-pack"],
    ] as const) {
      process.stdout.write(`${label}: ${await load(new URL(`${hub.url}${path}`), authorization)}\n`);
    }
  } finally {
    await hub.stop();
    await removeTree(work);
  }
}

async function load(url: URL, authorization: string): Promise<string> {
  {
    const agent = new Agent({ keepAlive: true, maxSockets: connections });
    for (let i = 0; i < 50; i++) await get(url, agent, authorization); // warm-up
    const latencies: number[] = [];
    let failures = 0;
    const deadline = performance.now() + seconds * 1000;
    const worker = async () => {
      while (performance.now() < deadline) {
        const started = performance.now();
        const status = await get(url, agent, authorization);
        latencies.push(performance.now() - started);
        if (status !== 200 && status !== 404) failures++;
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: connections }, worker));
    const elapsed = (performance.now() - started) / 1000;
    const s = summarise(latencies);
    const sorted = [...latencies].sort((a, b) => a - b);
    const p99 = sorted[Math.floor(sorted.length * 0.99)] ?? Number.NaN;
    agent.destroy();
    return `${latencies.length} requests in ${elapsed.toFixed(1)} s over ${connections} connections: ${(latencies.length / elapsed).toFixed(0)}/s, p50 ${s.median.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, errors: ${failures}`;
  }
}

await main();
