import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { ActivationFile } from "../environment/hook-script.js";
import type { ProfileLink } from "../environment/profile-links.js";
import { writeFileAtomic } from "../fs/atomic-write.js";
import { isStorePath, type StorePath } from "../nix/store-path.js";

/**
 * What a profile's content depends on, as a stable key: its name, every link group's install id,
 * priority and store paths, and the generated files (dev mode's propagated paths follow from the
 * store paths, so they need no place in it). Identical generations give the same key, so
 * a steady-state start can reuse the profile without asking Nix anything. Pure.
 */
export function profileKey(
  links: readonly ProfileLink[],
  name: string,
  files: Readonly<Record<string, ActivationFile>>,
): string {
  const canonical = {
    name,
    links: links
      .map((link) => ({ installId: link.installId, priority: link.priority, paths: [...link.paths].sort() }))
      .sort((a, b) => a.installId.localeCompare(b.installId) || a.priority - b.priority),
    files: Object.entries(files)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([path, file]) => [path, file.content, file.executable === true]),
  };
  return createHash("sha256").update(JSON.stringify(canonical)).digest("hex");
}

/**
 * The profiles this node has built, by {@link profileKey}: `<state-dir>/profiles/<key>` holds the store
 * path. A record is written only after the build returned, so it never names a half-built profile; a
 * record whose path the collector removed since is ignored (the profile is built again).
 */
export function profileCache(stateDir: string, storeRoot: string) {
  const dir = join(stateDir, "profiles");
  return {
    // Synchronous, on every warm start: a small read and a stat cost µs, awaited ones a thread-pool
    // round trip each for the node agent's one thread (bench/README.md, "The warm path").
    async lookup(key: string): Promise<StorePath | undefined> {
      let path: string;
      try {
        path = readFileSync(join(dir, key), "utf8").trim();
      } catch {
        return undefined;
      }
      if (!isStorePath(path)) return undefined;
      try {
        statSync(join(storeRoot, path));
        return path;
      } catch {
        return undefined;
      }
    },
    async remember(key: string, path: StorePath): Promise<void> {
      await mkdir(dir, { recursive: true });
      await writeFileAtomic(join(dir, key), `${path}\n`);
    },
  };
}
