import { lstat, mkdir, readlink, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { realPath } from "../nix/nix-store.js";
import type { StorePath } from "../nix/store-path.js";
import { mountClosure } from "../oci/modifiers/mount-closure.js";
import { mountStore } from "../oci/modifiers/mount-store.js";
import { mountStoreOverlay } from "../oci/modifiers/mount-store-overlay.js";
import type { SpecModifier } from "../oci/spec.js";
import type { StoreMount } from "./config.js";
import { statePaths } from "./container-state.js";

/** What {@link storeMount} needs to know about the container and the node. */
export interface StoreMountInput {
  readonly containerId: string;
  readonly mode: StoreMount;
  readonly nixMutable: boolean;
  readonly stateDir: string;
  readonly storeRoot: string;
  /** The store paths the container runs: the profile, and a bash from the config if one is used. */
  readonly roots: readonly StorePath[];
  readonly closure: (paths: readonly StorePath[]) => Promise<readonly StorePath[]>;
}

/**
 * The `/nix` of a Flox container (SPEC §6): the node's whole `/nix` (`store`) or only the closure of
 * what it runs (`closure`), read-only or (`nix-mutable`) with a private writable layer. Makes the
 * per-container directories that needs under the state directory; `removeContainerRecord` deletes them.
 */
export async function storeMount(input: StoreMountInput): Promise<SpecModifier> {
  const paths = statePaths(input.stateDir, input.containerId);
  const overlay = { upper: join(paths.overlay, "upper"), work: join(paths.overlay, "work") };
  if (input.nixMutable) {
    await mkdir(overlay.upper, { recursive: true, mode: 0o755 });
    await mkdir(overlay.work, { recursive: true, mode: 0o700 });
  }
  const nixDir = join(input.storeRoot, "nix");
  if (input.mode === "store") {
    return input.nixMutable ? mountStoreOverlay({ lower: nixDir, ...overlay }) : mountStore(nixDir);
  }
  const closure = await input.closure(input.roots);
  const store = { storeRoot: input.storeRoot, substituters: [], trustedPublicKeys: [], requireSigs: true };
  // A fresh skeleton: a retried create must not keep mount points of an earlier closure.
  await rm(paths.closureRoot, { recursive: true, force: true });
  await mkdir(join(paths.closureRoot, "store"), { recursive: true, mode: 0o755 });
  const bound: StorePath[] = [];
  for (const path of closure) {
    const host = realPath(store, path);
    const info = await lstat(host);
    const point = join(paths.closureRoot, path.slice("/nix/".length));
    // A store path is a directory, a file (bound over an empty file) or a symlink (copied as it is:
    // it shows where it points, and its target, when needed, is in the closure too).
    if (info.isSymbolicLink()) {
      await symlink(await readlink(host), point);
      continue;
    }
    if (info.isDirectory()) await mkdir(point);
    else await writeFile(point, "");
    bound.push(path);
  }
  return mountClosure({
    skeleton: paths.closureRoot,
    paths: bound,
    hostPath: (path) => realPath(store, path as StorePath),
    ...(input.nixMutable ? { overlay } : {}),
  });
}

/** The store path a file in the store belongs to (`/nix/store/<hash>-<name>/bin/bash` → `/nix/store/<hash>-<name>`). Pure. */
export function storePathOf(file: string): StorePath | undefined {
  const match = /^\/nix\/store\/[^/]+/.exec(file);
  return match === null ? undefined : (match[0] as StorePath);
}
