import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { ActivationInput } from "../environment/activation.js";
import { ImagelessError } from "../errors/imageless-error.js";
import { writeFileAtomic } from "../fs/atomic-write.js";
import { currentProcess, formatIdentity } from "./process-identity.js";

/**
 * What the runtime remembers about a Flox container between `create`, `exec` and `delete`. It holds
 * no secret: exec rewrites are recomputed from `activation`, which is token-free.
 */
export interface ContainerRecord {
  readonly version: 1;
  readonly containerId: string;
  readonly containerName: string;
  readonly environment: string;
  readonly generation: number;
  readonly storePath: string;
  readonly skipExec: boolean;
  readonly activation: ActivationInput;
  /** Set when the environment activates through bash (a hook or shell-only `[vars]`); exec uses it too. */
  readonly shell?: ActivationShell;
  /** `/nix` is an overlay whose private layers live under `statePaths(…).overlay`. */
  readonly nixMutable?: boolean;
  readonly createdAt: string;
}

/** How a command is activated through bash: `[bash, "--noprofile", "--norc", script, phase, record, …args]`. */
export interface ActivationShell {
  /** The bash executable, a path under /nix/store. */
  readonly bash: string;
  /** The activation script in the environment ($FLOX_ENV/activate.d/…). */
  readonly script: string;
  /**
   * Where the start records the activation's variable changes, as the container sees it; exec
   * replays it. Absent in records written before the hook ran once per container.
   */
  readonly record?: string;
}

/** The node state directory's layout, in one place. */
export function statePaths(stateDir: string, containerId: string) {
  return {
    record: join(stateDir, "containers", `${containerId}.json`),
    gcRoot: join(stateDir, "gcroots", containerId),
    /** Keeps a bash from `[runtime] shell` alive; an environment's own bash is in its closure. */
    shellGcRoot: join(stateDir, "gcroots", `${containerId}.shell`),
    /** Keep `[runtime] cacert` / `[runtime] locales` alive when activation uses them. */
    cacertGcRoot: join(stateDir, "gcroots", `${containerId}.cacert`),
    localesGcRoot: join(stateDir, "gcroots", `${containerId}.locales`),
    envCache: join(stateDir, "env-cache", containerId),
    /** `upper/` and `work/` of a mutable `/nix` (one file system, as overlayfs requires). */
    overlay: join(stateDir, "overlay", containerId),
    /** `[runtime] mount = "closure"`: the `/nix` skeleton holding a mount point per closure path. */
    closureRoot: join(stateDir, "closure-root", containerId),
    floxmetaCache: join(stateDir, "floxmeta"),
    /**
     * Exists while a create is under way, naming the process doing it (process-identity.ts). Written
     * before the first GC root, removed once the edited spec is written: a claim whose process is gone
     * marks state a killed create left behind (see `sweepAbandoned` in release.ts).
     */
    claim: join(stateDir, "creating", containerId),
    claims: join(stateDir, "creating"),
  };
}

/** Marks `containerId` as being created by this process (see `statePaths(…).claim`). */
export async function claimContainer(stateDir: string, containerId: string): Promise<void> {
  const paths = statePaths(stateDir, containerId);
  // The directory calls here and below are synchronous, as writeFileAtomic's non-durable write is:
  // µs each, on every start, where an awaited one costs the agent a thread-pool round trip.
  mkdirSync(paths.claims, { recursive: true, mode: 0o700 });
  // Not fsync'd: a claim matters only until the create ends. After a machine crash, one that lost its
  // contents (empty, unparsable) names no live process and is swept like any other dead claim
  // (release.ts); one lost entirely leaves at most GC roots that the container's delete drops by id.
  await writeFileAtomic(paths.claim, formatIdentity(currentProcess()), 0o600, { durable: false });
}

/** The create of `containerId` is complete (its spec is written): nothing to sweep any more. */
export async function releaseClaim(stateDir: string, containerId: string): Promise<void> {
  rmSync(statePaths(stateDir, containerId).claim, { force: true });
}

/** Writes the record (atomically, owner-only) that exec and delete read back. */
export async function saveContainerRecord(stateDir: string, record: ContainerRecord): Promise<void> {
  const path = statePaths(stateDir, record.containerId).record;
  mkdirSync(join(stateDir, "containers"), { recursive: true, mode: 0o700 });
  // Not fsync'd (an fsync cost 3–12 ms on a busy VM, bench/README.md): the record lives as long as its container, and no
  // container survives a machine crash (runc's state is on tmpfs). The rename alone keeps readers from
  // a torn file while the machine is up; after a crash, a record lost or left empty makes the delete
  // drop the container's state by id anyway (releaseContainer), and exec has no container to serve.
  await writeFileAtomic(path, JSON.stringify(record), 0o600, { durable: false });
}

/** The record of a Flox container, or undefined for a container the runtime did not modify. */
export async function loadContainerRecord(
  stateDir: string,
  containerId: string,
): Promise<ContainerRecord | undefined> {
  const path = statePaths(stateDir, containerId).record;
  let text: string;
  try {
    // Synchronously: read on every exec, a small file (see writeFileAtomic's non-durable write).
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  return parseContainerRecord(text, path);
}

/**
 * Removes the record and the container's private directories (env cache, overlay layers). Safe to
 * call for a container that has none of them.
 */
export async function removeContainerRecord(stateDir: string, containerId: string): Promise<void> {
  const paths = statePaths(stateDir, containerId);
  await rm(paths.envCache, { recursive: true, force: true });
  await rm(paths.overlay, { recursive: true, force: true });
  await rm(paths.closureRoot, { recursive: true, force: true });
  // The record goes last: while it exists, a retried delete still knows there is something to drop.
  await rm(paths.record, { force: true });
  await rm(paths.claim, { force: true });
}

function parseContainerRecord(text: string, source: string): ContainerRecord {
  const value: unknown = JSON.parse(text);
  if (
    typeof value !== "object" ||
    value === null ||
    !("version" in value) ||
    value.version !== 1 ||
    !("activation" in value) ||
    typeof value.activation !== "object"
  ) {
    throw new ImagelessError(
      "internal",
      `container record ${source} is not a version 1 record; delete it and restart the pod`,
    );
  }
  // Written only by saveContainerRecord above, with the same version: the shape check is the contract.
  return value as ContainerRecord;
}
