/**
 * What a test node must not leave behind once its pods are removed and containerd is stopped: the
 * runtime's per-container state (GC roots, env caches, overlay layers, closure skeletons, records,
 * create claims), mounts, and processes. Checked by `FloxNode.stop()`, so every e2e suite proves
 * its own cleanup instead of assuming it.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { mountsUnder } from "./temp.js";

/** The runtime's per-container directories under its state dir (statePaths in container-state.ts). */
const PER_CONTAINER_DIRS = ["gcroots", "env-cache", "overlay", "closure-root", "containers", "creating"];

/** Entries of per-container state left under `stateDir`, as `dir/entry`. */
export async function runtimeStateLeaks(stateDir: string): Promise<string[]> {
  const found: string[] = [];
  for (const sub of PER_CONTAINER_DIRS) {
    for (const entry of await readdir(join(stateDir, sub)).catch(() => [] as string[]))
      found.push(`${sub}/${entry}`);
  }
  return found;
}

/** Processes (other than this one) whose command line names a path under `dir`: e.g. an orphaned Nix. */
export async function processesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir("/proc").catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const argv = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (argv.includes(dir)) found.push(`${entry}: ${argv.split("\0").join(" ").slice(0, 160)}`);
  }
  return found;
}

/** Every leak under a stopped node's `dir`: runtime state, mounts and processes. Empty when clean. */
export async function nodeLeaks(dir: string, stateDir: string): Promise<string[]> {
  return [
    ...(await runtimeStateLeaks(stateDir)).map((entry) => `runtime state ${entry}`),
    ...(await mountsUnder(dir)).map((point) => `mount ${point}`),
    ...(await processesUnder(dir)).map((proc) => `process ${proc}`),
  ];
}
