/**
 * What lets a demo be stopped from another process, or cleaned up after one that died: the PIDs it
 * recorded in `<demo dir>/demo.json`, and the programs whose command line names the demo's directory.
 */
import { existsSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { DEMO_DIR } from "../src/pod-runner/demo-paths.js";
import { isAlive, stopContainerdAt } from "../test/harness/containerd.js";
import { mountsUnder, removeTree } from "../test/harness/temp.js";
import { say } from "./output.js";

/** The programs the demo starts (containerd and its shims, the hub and CLI on node, Nix). */
const DEMO_PROGRAMS = /^(containerd|containerd-shim.*|node|imageless|nix|nix-store|nix-build)$/;
/** What `stop` needs when the demo process itself is gone. */
const STATE_FILE = join(DEMO_DIR, "demo.json");

export interface DemoState {
  readonly supervisor: number;
  hub?: number;
  containerd?: { pid: number; startTicks: number };
}

export async function readState(): Promise<DemoState | undefined> {
  const text = await readFile(STATE_FILE, "utf8").catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as DemoState);
}

export async function saveState(state: DemoState): Promise<void> {
  await writeFile(STATE_FILE, JSON.stringify(state));
}

/**
 * The safety net after the recorded stops: a process whose command line names the demo's directory
 * is the demo's (containerd started just before an interrupt was recorded, its shims, the hub).
 * SIGTERM, then SIGKILL after 5 s. Only the programs the demo runs: a user's `tail -f` of a demo log lives.
 */
export async function killStragglers(): Promise<void> {
  const pids: number[] = [];
  for (const entry of await readdir("/proc").catch(() => [])) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const argv = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    const args = argv.split("\0");
    const program = (args[0] ?? "").split("/").at(-1) ?? "";
    if (DEMO_PROGRAMS.test(program) && args.some((arg) => arg.includes(`${DEMO_DIR}/`)))
      pids.push(Number(entry));
  }
  const signal = (pid: number, name: NodeJS.Signals) => {
    try {
      process.kill(pid, name);
    } catch {
      // gone already
    }
  };
  for (const pid of pids) signal(pid, "SIGTERM");
  const deadline = Date.now() + 5_000;
  while (pids.some(isAlive) && Date.now() < deadline) await sleep(100);
  for (const pid of pids.filter(isAlive)) signal(pid, "SIGKILL");
}

/** Removes what a demo left when its process is gone: containerd and its pods, the hub, the dir. */
export async function cleanUp(state: DemoState | undefined): Promise<void> {
  if (state?.containerd !== undefined) {
    await stopContainerdAt(join(DEMO_DIR, "containerd"), state.containerd.pid, state.containerd.startTicks);
  }
  if (state?.hub !== undefined && isAlive(state.hub)) {
    const cmdline = await readFile(`/proc/${state.hub}/cmdline`, "utf8").catch(() => "");
    if (cmdline.includes(join(DEMO_DIR, "hub"))) process.kill(state.hub, "SIGTERM");
  }
  await killStragglers();
  await removeTree(DEMO_DIR);
}

/** `stop`: asks the running demo to stop and waits; cleans up after one that died. */
export async function stopRunning(): Promise<void> {
  const state = await readState();
  if (state === undefined && !existsSync(DEMO_DIR)) {
    say("no demo runs");
    return;
  }
  if (state !== undefined && isAlive(state.supervisor)) {
    say(`stopping the demo (pid ${state.supervisor}) …`);
    process.kill(state.supervisor, "SIGTERM");
    const deadline = Date.now() + 120_000;
    while (isAlive(state.supervisor) && Date.now() < deadline) await sleep(200);
  }
  if (existsSync(DEMO_DIR)) await cleanUp(state);
  const left = await mountsUnder(DEMO_DIR);
  if (left.length > 0) throw new Error(`still mounted: ${left.join(" ")}`);
  say(`stopped: nothing left running or mounted under ${DEMO_DIR}`);
}
