import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { DEMO_DIR } from "../../src/pod-runner/demo-paths.js";
import { isAlive } from "../harness/containerd.js";
import { repoRoot } from "../harness/repo-root.js";
import { makeTempDir, mountsUnder, removeTree } from "../harness/temp.js";

// The demo as a newcomer runs it (what scripts/demo.sh runs after setup): it must reach "demo ready"
// having shown the update and the rollback, answer on the ports it prints, and leave nothing behind
// when stopped with `scripts/demo.sh stop`.

const run = promisify(execFile);
const FIRST_QUOTE = "Simplicity is prerequisite for reliability.";

let demo: ChildProcess | undefined;
let output = "";
let exited: Promise<number | null>;
let recorded: { supervisor: number; hub?: number; containerd?: { pid: number } } | undefined;

function imageless(args: readonly string[]): Promise<string> {
  return run(join(repoRoot(), "bin", "imageless"), args, {
    env: { ...process.env, XDG_CONFIG_HOME: join(DEMO_DIR, "config") },
  }).then((r) => r.stdout);
}

async function waitFor(text: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!output.includes(text)) {
    if (demo?.exitCode !== null || Date.now() > deadline) {
      throw new Error(`the demo did not print "${text}":\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Processes whose command line names the demo's directory (containerd, shims, the hub, runtimes). */
async function demoProcesses(): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const argv = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (argv.includes(DEMO_DIR) && isAlive(Number(entry)))
      found.push(`${entry}: ${argv.replaceAll("\0", " ")}`);
  }
  return found;
}

before(async () => {
  // A demo that died leaves its directory, which the demo cleans up itself; a running one is refused.
  const running = await readFile(join(DEMO_DIR, "demo.json"), "utf8")
    .then((text) => (JSON.parse(text) as { supervisor: number }).supervisor)
    .catch(() => undefined);
  assert.ok(
    running === undefined || !isAlive(running),
    `a demo runs on this machine (pid ${running}); stop it first`,
  );
  demo = spawn(process.execPath, [join(repoRoot(), "dist", "demo", "run-demo.js")], {
    cwd: repoRoot(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const child = demo;
  exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  child.stdout?.on("data", (c: Buffer) => {
    output += c.toString();
  });
  child.stderr?.on("data", (c: Buffer) => {
    output += c.toString();
  });
});

after(async () => {
  // On a failure before the stop test: stop it the documented way, then by PID.
  if (demo?.pid !== undefined && demo.exitCode === null) {
    await run(process.execPath, [join(repoRoot(), "dist", "demo", "run-demo.js"), "stop"]).catch(
      () => undefined,
    );
    if (demo.exitCode === null) demo.kill("SIGKILL");
  }
});

describe("the demo", { timeout: 900_000 }, () => {
  it("serves quotes from Redis, shows the update, the pinned pod and the rollback, then waits", async () => {
    await waitFor("demo ready", 840_000);
    const answers = [...output.matchAll(/\$ curl (localhost:\d+\/quotes\/0)\n\s+(.*)/g)].map((m) => [
      m[1],
      m[2],
    ]);
    assert.deepEqual(answers, [
      ["localhost:3000/quotes/0", FIRST_QUOTE],
      ["localhost:3000/quotes/0", `{"id": 0, "quote": "${FIRST_QUOTE}", "server": "quotes 2.0"}`],
      ["localhost:3001/quotes/0", FIRST_QUOTE],
      ["localhost:3000/quotes/0", FIRST_QUOTE],
    ]);
    assert.match(output, /demo\/quotes: generation 1 is live \(was 2\)/);
    assert.match(output, /the same bytes as an image \(\d+\.\d MB, 4 store paths\): ctr import\s+\d+ ms/);
  });

  it("answers what it prints, and imageless pod logs and exec reach its pods", async () => {
    assert.equal(
      await (await fetch("http://127.0.0.1:3000/quotes/2")).text(),
      "The best code is no code at all.\n",
    );
    assert.equal(await (await fetch("http://127.0.0.1:3001/quotes/0")).text(), `${FIRST_QUOTE}\n`);
    assert.equal((await fetch("http://127.0.0.1:3000/quotes/9")).status, 404);
    assert.equal(
      await imageless(["pod", "logs", "quotes"]),
      "quotes 1.0 listening on port 3000, reading Redis at 127.0.0.1:6379\n",
    );
    assert.equal(await imageless(["pod", "exec", "redis", "--", "redis-cli", "LLEN", "quotes"]), "5\n");
    assert.equal(
      await imageless(["pod", "ls"]),
      [
        "POD                    ENVIRONMENT    CONTAINERS",
        "default/quotes         demo/quotes    load-quotes=exited app=running",
        "default/quotes-pinned  demo/quotes:1  app=running",
        "default/redis          demo/redis     redis=running",
        "",
      ].join("\n"),
    );
    assert.match(await imageless(["env", "generations", "-r", "demo/quotes"]), /^1 .*\(live\)$/m);
  });

  it("imageless pod run gives a container its Secret volume, env and working dir", async () => {
    const dir = await makeTempDir("demo-secret");
    try {
      await mkdir(join(dir, "secret"));
      await writeFile(join(dir, "secret", "text"), "from a local Secret\n");
      const manifest = join(dir, "check.yaml");
      await writeFile(
        manifest,
        [
          "apiVersion: v1",
          "kind: Pod",
          "metadata:",
          "  name: secret-check",
          '  annotations: { flox.dev/environment: "demo/redis" }',
          "spec:",
          "  runtimeClassName: flox",
          "  volumes: [{ name: greeting, secret: { secretName: greeting } }]",
          "  containers:",
          "    - name: app",
          "      image: localhost/imageless/empty:1.0.0",
          '      command: ["sh", "-c", "echo \\"$WHO in $(pwd)\\"; cat /etc/greeting/text"]',
          "      workingDir: /tmp",
          "      env: [{ name: WHO, value: check }]",
          "      volumeMounts: [{ name: greeting, mountPath: /etc/greeting }]",
          "",
        ].join("\n"),
      );
      await imageless(["pod", "run", manifest, "--secret", `greeting=${join(dir, "secret")}`]);
      let logs = "";
      for (let i = 0; i < 100 && !logs.includes("Secret"); i++) {
        logs = await imageless(["pod", "logs", "secret-check"]);
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(logs, "check in /tmp\nfrom a local Secret\n");
      assert.equal(await imageless(["pod", "rm", "secret-check"]), "pod secret-check removed\n");
    } finally {
      await removeTree(dir);
    }
  });

  it("stops with scripts/demo.sh stop, leaving nothing running or mounted", async () => {
    recorded = JSON.parse(await readFile(join(DEMO_DIR, "demo.json"), "utf8"));
    const { stdout } = await run("bash", [join(repoRoot(), "scripts", "demo.sh"), "stop"]);
    assert.match(stdout, /stopped: nothing left running or mounted under \/tmp\/imageless-demo/);
    assert.equal(await exited, 0);
    const pids = [recorded?.supervisor, recorded?.hub, recorded?.containerd?.pid].filter(
      (p): p is number => p !== undefined,
    );
    assert.equal(pids.length, 3);
    assert.deepEqual(
      pids.filter((p) => isAlive(p)),
      [],
    );
    assert.deepEqual(await demoProcesses(), []);
    assert.deepEqual(await mountsUnder(DEMO_DIR), []);
    assert.equal(existsSync(DEMO_DIR), false);
    await assert.rejects(fetch("http://127.0.0.1:3000/quotes/0"));
  });
});
