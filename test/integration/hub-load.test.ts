/**
 * Load, bounded: a real `imageless hub serve` process on loopback answers 200 concurrent requests —
 * git clones of a public environment and API reads — all correctly (each clone has the pushed
 * content, each read the same answer). Short on purpose; times are printed, not asserted.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { floxmetaPath, writeFloxmeta } from "../harness/floxmeta-fixture.js";
import { type HubProcess, startHubProcess } from "../harness/hub.js";
import { makeTempDir, removeTree } from "../harness/temp.js";

const run = promisify(execFile);
const GIT_ENV = { PATH: process.env["PATH"] ?? "", GIT_CONFIG_GLOBAL: "/dev/null", GIT_TERMINAL_PROMPT: "0" };
const CLONES = 80;
const READS = 120;

let work: string;
let hub: HubProcess;

before(async () => {
  work = await makeTempDir("hub-load");
  hub = await startHubProcess();
  const root = join(work, "floxmeta");
  await writeFloxmeta(root, "admin", [
    {
      name: "web",
      generations: [
        { manifestToml: "version = 1\n", lock: undefined },
        { manifestToml: 'version = 1\n[vars]\nGREETING = "two"\n', lock: undefined },
      ],
    },
  ]);
  const url = `http://oauth:${hub.adminToken}@${new URL(hub.url).host}/git/admin/floxmeta`;
  await run("git", ["--git-dir", floxmetaPath(root, "admin"), "push", "--quiet", url, "web"], {
    env: GIT_ENV,
  });
  const made = await fetch(`${hub.url}/api/v1/environments/admin/web/visibility`, {
    method: "PUT",
    headers: { authorization: `Bearer ${hub.adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ visibility: "public" }),
  });
  assert.ok(made.ok, await made.text());
});
after(async () => {
  await hub?.stop();
  await removeTree(work);
});

describe("the hub under 200 concurrent clones and API reads", () => {
  it(`serves ${CLONES} clones and ${READS} API reads at once, every one correct`, async () => {
    const expected = await (await fetch(`${hub.url}/api/v1/environments/admin/web`)).json();
    const started = performance.now();
    const clones = Array.from({ length: CLONES }, async (_, i) => {
      const dir = join(work, `clone-${i}`);
      await run(
        "git",
        [
          "clone",
          "--quiet",
          "--branch",
          "web",
          `http://oauth:@${new URL(hub.url).host}/git/admin/floxmeta`,
          dir,
        ],
        { env: GIT_ENV },
      );
      return JSON.parse(await readFile(join(dir, "metadata.json"), "utf8")).total_generations;
    });
    const reads = Array.from({ length: READS }, async (_, i) => {
      const path = i % 2 === 0 ? "/environments/admin/web" : "/environments/admin/web/generations";
      const res = await fetch(`${hub.url}/api/v1${path}`);
      return { path, status: res.status, body: await res.json() };
    });
    const [cloned, answered] = await Promise.all([Promise.all(clones), Promise.all(reads)]);
    process.stderr.write(
      `# ${CLONES} clones + ${READS} API reads at once: ${Math.round(performance.now() - started)} ms\n`,
    );
    assert.deepEqual(cloned, Array(CLONES).fill(2));
    for (const answer of answered) {
      assert.equal(answer.status, 200);
      if (answer.path === "/environments/admin/web") assert.deepEqual(answer.body, expected);
      else
        assert.deepEqual(
          (answer.body as { generation: number }[]).map((g) => g.generation),
          [1, 2],
        );
    }
  });
});
