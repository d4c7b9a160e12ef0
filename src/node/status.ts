import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { queryClosure } from "../nix/closure.js";
import { storePathSizes } from "../nix/collect.js";
import { realPath } from "../nix/nix-store.js";
import { isStorePath, type StorePath } from "../nix/store-path.js";
import type { NodeConfig } from "./config.js";
import { type ContainerRecord, loadContainerRecord } from "./container-state.js";
import { nodeStore } from "./node-deps.js";

/**
 * Every Flox container the state dir holds a record for: a record is written at create and removed
 * at delete, so these are the containers that exist (running or stopped, not yet deleted).
 */
export async function listContainerRecords(stateDir: string): Promise<ContainerRecord[]> {
  const names = await readdir(join(stateDir, "containers")).catch(() => [] as string[]);
  const records: ContainerRecord[] = [];
  for (const name of names.sort()) {
    if (!name.endsWith(".json")) continue;
    const record = await loadContainerRecord(stateDir, name.slice(0, -".json".length));
    if (record !== undefined) records.push(record);
  }
  return records;
}

/** A built profile the node remembers (`<state-dir>/profiles/<key>`, see profile-cache.ts). */
export interface CachedProfile {
  readonly key: string;
  readonly storePath: StorePath;
  /** When a start last built or was seen using it (the record file's mtime), epoch ms. */
  readonly lastUsedMs: number;
}

/** The profile records in the state dir; unreadable or malformed ones are skipped. */
export async function listCachedProfiles(stateDir: string): Promise<CachedProfile[]> {
  const dir = join(stateDir, "profiles");
  const profiles: CachedProfile[] = [];
  for (const key of (await readdir(dir).catch(() => [] as string[])).sort()) {
    if (key.startsWith(".")) continue;
    const file = join(dir, key);
    const path = (await readFile(file, "utf8").catch(() => "")).trim();
    const info = await stat(file).catch(() => undefined);
    if (!isStorePath(path) || info === undefined) continue;
    profiles.push({ key, storePath: path, lastUsedMs: info.mtimeMs });
  }
  return profiles;
}

/** One environment on the node: a built profile and who uses it. */
export interface EnvironmentStatus {
  /** `owner/name:generation` of each container using it (one profile may serve identical generations). */
  readonly refs: readonly string[];
  readonly storePath: StorePath;
  readonly containers: readonly { readonly id: string; readonly name: string }[];
  /** Bytes of the profile's whole closure; undefined when the path is no longer in the store. */
  readonly closureBytes: number | undefined;
  readonly lastUsed: string | undefined;
}

/** What `imageless node status` prints. */
export interface NodeStatus {
  readonly environments: readonly EnvironmentStatus[];
  /** Bytes of the union of every listed closure (shared paths counted once). */
  readonly diskBytes: number;
}

/**
 * Groups containers by the profile they run and lists cached profiles no container uses. Pure.
 */
export function groupEnvironments(
  records: readonly ContainerRecord[],
  profiles: readonly CachedProfile[],
): {
  storePath: StorePath;
  refs: string[];
  containers: { id: string; name: string }[];
  lastUsedMs?: number;
}[] {
  const byPath = new Map<
    StorePath,
    { storePath: StorePath; refs: string[]; containers: { id: string; name: string }[]; lastUsedMs?: number }
  >();
  const entry = (path: StorePath) => {
    let found = byPath.get(path);
    if (found === undefined) {
      found = { storePath: path, refs: [], containers: [] };
      byPath.set(path, found);
    }
    return found;
  };
  for (const record of records) {
    if (!isStorePath(record.storePath)) continue;
    const env = entry(record.storePath);
    const ref = `${record.environment}:${record.generation}`;
    if (!env.refs.includes(ref)) env.refs.push(ref);
    env.containers.push({ id: record.containerId, name: record.containerName });
  }
  for (const profile of profiles) entry(profile.storePath).lastUsedMs = profile.lastUsedMs;
  return [...byPath.values()].sort((a, b) => a.storePath.localeCompare(b.storePath));
}

/** `imageless node status`: environments on the node, the containers using each, sizes and disk used. */
export async function nodeStatus(config: NodeConfig): Promise<NodeStatus> {
  const stateDir = config.runtime.stateDir;
  const store = nodeStore(config);
  const groups = groupEnvironments(await listContainerRecords(stateDir), await listCachedProfiles(stateDir));
  const allPaths = new Set<StorePath>();
  const closures = new Map<StorePath, StorePath[]>();
  for (const group of groups) {
    const present = await stat(realPath(store, group.storePath)).then(
      () => true,
      () => false,
    );
    if (!present) continue;
    const closure = await queryClosure([group.storePath], store);
    closures.set(group.storePath, closure);
    for (const path of closure) allPaths.add(path);
  }
  const sizes = await storePathSizes([...allPaths], store);
  const sum = (paths: readonly StorePath[]) => paths.reduce((total, p) => total + (sizes.get(p) ?? 0), 0);
  return {
    environments: groups.map((group) => {
      const closure = closures.get(group.storePath);
      return {
        refs: group.refs,
        storePath: group.storePath,
        containers: group.containers,
        closureBytes: closure === undefined ? undefined : sum(closure),
        lastUsed: group.lastUsedMs === undefined ? undefined : new Date(group.lastUsedMs).toISOString(),
      };
    }),
    diskBytes: sum([...allPaths]),
  };
}

/** The status as a person reads it. Pure. */
export function formatNodeStatus(status: NodeStatus): string {
  if (status.environments.length === 0) return "no Flox environments on this node\n";
  const lines: string[] = [];
  for (const env of status.environments) {
    const name = env.refs.length > 0 ? env.refs.join(", ") : "(no container uses it)";
    const size = env.closureBytes === undefined ? "not in the store" : formatBytes(env.closureBytes);
    lines.push(`${name}`, `  store path: ${env.storePath}`, `  closure: ${size}`);
    if (env.lastUsed !== undefined) lines.push(`  last used: ${env.lastUsed}`);
    lines.push(
      env.containers.length === 0
        ? "  containers: none"
        : `  containers: ${env.containers.map((c) => `${c.name} (${c.id.slice(0, 12)})`).join(", ")}`,
    );
  }
  lines.push(`disk used by these closures: ${formatBytes(status.diskBytes)}`);
  return `${lines.join("\n")}\n`;
}

/** `1536` → `1.5 KiB`. Pure. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}
