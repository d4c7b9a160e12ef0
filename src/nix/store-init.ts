import { link, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ImagelessError } from "../errors/imageless-error.js";
import { type NixStore, storeArgs } from "./nix-store.js";
import { runNix } from "./run-nix.js";

/**
 * Why this exists: Nix 2.8 creates a store's database the first time any Nix process opens the store,
 * and does so without a lock of its own. Two processes opening a fresh store root at once both
 * create it: the loser reads the `schema` file the winner has created but not yet written and fails
 * with "…/nix/var/nix/db/schema is corrupt" (2–3 of 30 concurrent starts here), or meets the winner's
 * transaction ("db.sqlite is busy"). So the first use of a store root is serialised across processes
 * (the wrapper runs one process per container start): one process runs `nix-store --init` under a
 * lock file, the others wait for it; once `schema` holds a version number nothing is locked again.
 */

/** Where the lock lives: beside Nix's own state, so every user of this store root finds it. */
export function storeInitLockPath(storeRoot: string): string {
  return join(storeRoot, "nix", "var", "imageless-store-init.lock");
}

function schemaPath(storeRoot: string): string {
  return join(storeRoot, "nix", "var", "nix", "db", "schema");
}

/** The holder a lock file names: its pid and start time (field 22 of /proc/<pid>/stat, against reuse). */
export interface LockHolder {
  readonly pid: number;
  readonly startTime: string;
}

/** The text of a lock file for `holder` (pure). */
export function formatLockHolder(holder: LockHolder): string {
  return `${holder.pid} ${holder.startTime}\n`;
}

/** The holder a lock file's text names, or undefined for a torn or foreign file (pure). */
export function parseLockHolder(text: string): LockHolder | undefined {
  const match = /^(\d+) (\d+)\n$/.exec(text);
  if (match === null) return undefined;
  return { pid: Number(match[1]), startTime: match[2] ?? "" };
}

/** Field 22 (starttime) of a /proc/<pid>/stat line; the command name may hold spaces and parentheses (pure). */
export function startTimeFromStat(stat: string): string | undefined {
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields after the name start at field 3, so field 22 is index 19.
  return fields[19];
}

async function processStartTime(pid: number): Promise<string | undefined> {
  try {
    return startTimeFromStat(await readFile(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return undefined;
  }
}

/** A lock whose holder is gone (killed mid-init) or whose pid now belongs to another process is stale. */
async function isStale(holder: LockHolder | undefined): Promise<boolean> {
  if (holder === undefined) return true;
  return (await processStartTime(holder.pid)) !== holder.startTime;
}

const initialised = new Set<string>();

/** True once the store root's database carries a schema version (Nix wrote it last, after creating it). */
async function hasSchema(storeRoot: string): Promise<boolean> {
  try {
    return /^\d+$/.test((await readFile(schemaPath(storeRoot), "utf8")).trim());
  } catch {
    return false;
  }
}

/** Options of {@link ensureStoreReady}; the defaults suit a container start. */
export interface EnsureStoreOptions {
  /** Give up waiting for a live holder after this long (a hung `nix-store --init`). */
  readonly timeoutMs?: number;
  readonly pollMs?: number;
}

/**
 * Makes sure the store at `store.storeRoot` exists and is initialised, so concurrent Nix processes
 * that follow never race to create it. Cheap once done: one `schema` read per process.
 *
 * @throws {ImagelessError} `unavailable` when another live process holds the lock longer than the
 * timeout; whatever `nix-store --init` throws.
 * @example
 * await ensureStoreReady(store); // then realise, build, query as usual
 */
export async function ensureStoreReady(store: NixStore, opts: EnsureStoreOptions = {}): Promise<void> {
  const root = store.storeRoot;
  if (initialised.has(root)) return;
  if (await hasSchema(root)) {
    initialised.add(root);
    return;
  }
  const lock = storeInitLockPath(root);
  await mkdir(join(root, "nix", "var"), { recursive: true });
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  const me = formatLockHolder({ pid: process.pid, startTime: (await processStartTime(process.pid)) ?? "0" });
  for (;;) {
    if (await tryCreate(lock, me)) break;
    if (await hasSchema(root)) {
      initialised.add(root);
      return;
    }
    const text = await readFile(lock, "utf8").catch(() => undefined);
    if (text !== undefined && (await isStale(parseLockHolder(text)))) {
      await breakLock(lock, text);
      continue;
    }
    if (Date.now() > deadline) {
      throw new ImagelessError(
        "unavailable",
        `initialising the Nix store at ${root}: another process (${text?.trim() ?? "unknown"}) has held ${lock} for too long: check for a hung nix-store process`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, opts.pollMs ?? 50));
  }
  try {
    if (!(await hasSchema(root))) {
      await runNix("nix-store", ["--init", ...storeArgs(store)], {
        action: `initialising the Nix store at ${root}`,
      });
    }
    initialised.add(root);
  } finally {
    await rm(lock, { force: true });
  }
}

/**
 * Creates the lock file holding `content`, or returns false when it exists. Written aside and then
 * hard-linked into place, so no waiter ever reads a lock file without its holder in it.
 */
async function tryCreate(lock: string, content: string): Promise<boolean> {
  const temp = `${lock}.${process.pid}.tmp`;
  await writeFile(temp, content, { mode: 0o644 });
  try {
    await link(temp, lock);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    await rm(temp, { force: true });
  }
}

/**
 * Removes a stale lock. It is first renamed aside (only one of several waiters can win that rename),
 * then checked: should the file renamed not be the stale one read (a live holder took the lock in
 * between), it is put back.
 */
async function breakLock(lock: string, staleText: string): Promise<void> {
  const aside = `${lock}.stale-${process.pid}`;
  try {
    await rename(lock, aside);
  } catch {
    return; // another waiter broke it first
  }
  const moved = await readFile(aside, "utf8").catch(() => staleText);
  if (moved !== staleText) await rename(aside, lock).catch(() => undefined);
  else await rm(aside, { force: true });
}

/** Forgets what this process knows (tests that remove a store root and reuse its path). */
export function forgetInitialisedStores(): void {
  initialised.clear();
}
