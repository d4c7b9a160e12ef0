import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";

/**
 * A process as the kernel knows it: its pid and its start time (field 22 of `/proc/<pid>/stat`, in
 * clock ticks since boot). The pair names one process for good: a pid reused by another process has
 * another start time.
 */
export interface ProcessIdentity {
  readonly pid: number;
  readonly startTime: string;
}

/** The text a claim file holds (pure). */
export function formatIdentity(identity: ProcessIdentity): string {
  return `${identity.pid} ${identity.startTime}\n`;
}

/** The identity a claim file's text names, or undefined for a torn or foreign file (pure). */
export function parseIdentity(text: string): ProcessIdentity | undefined {
  const match = /^(\d+) (\d+)\n?$/.exec(text);
  if (match === null) return undefined;
  return { pid: Number(match[1]), startTime: match[2] ?? "" };
}

/** Field 22 (starttime) of a `/proc/<pid>/stat` line; the command name may hold spaces and `)` (pure). */
export function startTimeFromStat(stat: string): string | undefined {
  // Fields after the name start at field 3, so field 22 is index 19.
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
}

/** This process. */
export function currentProcess(): ProcessIdentity {
  return {
    pid: process.pid,
    startTime: startTimeFromStat(readFileSync(`/proc/${process.pid}/stat`, "utf8")) ?? "0",
  };
}

/** True while the process `identity` names still runs. */
export async function isRunning(identity: ProcessIdentity): Promise<boolean> {
  try {
    return startTimeFromStat(await readFile(`/proc/${identity.pid}/stat`, "utf8")) === identity.startTime;
  } catch {
    return false;
  }
}
