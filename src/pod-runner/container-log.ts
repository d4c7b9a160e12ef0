/**
 * What a container printed and how it ended, as CRI records them: the kubelet's log format and the
 * exit code from ContainerStatus. `imageless pod logs` and the tests read containers through these.
 */
import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import type { CriClient } from "../cri/cri-client.js";

/** A container's output as CRI logged it. */
export interface ContainerLog {
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Parses CRI's log format: `<RFC3339Nano> <stdout|stderr> <F|P> <text>` per line, where `P`
 * marks a partial line continued by the next entry of the same stream. Pure.
 */
export function parseCriLog(text: string): ContainerLog {
  const out = { stdout: "", stderr: "" };
  for (const line of text.split("\n")) {
    const match = /^\S+ (stdout|stderr) ([FP])(?: (.*))?$/.exec(line);
    if (match === null) continue;
    const stream = match[1] === "stderr" ? "stderr" : "stdout";
    out[stream] += (match[3] ?? "") + (match[2] === "F" ? "\n" : "");
  }
  return out;
}

/** Reads and parses a container log file; empty output when it does not exist yet. */
export async function readContainerLog(path: string): Promise<ContainerLog> {
  const text = await readFile(path, "utf8").catch((error: unknown) => {
    if (typeof error === "object" && error !== null && "code" in error && error.code === "ENOENT") return "";
    throw error;
  });
  return parseCriLog(text);
}

/**
 * Polls until the container has exited and returns its exit code.
 *
 * @throws Error when it still runs after `timeoutMs`.
 */
export async function waitForExit(cri: CriClient, containerId: string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await cri.containerStatus(containerId);
    if (status.state === "CONTAINER_EXITED") return status.exitCode;
    if (Date.now() > deadline) {
      throw new Error(`container ${containerId} still ${status.state} after ${timeoutMs} ms`);
    }
    await sleep(100);
  }
}
