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

/** What {@link prepareStoreMount} needs to know about the container and the node. */
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
 * What the node prepared for a container's `/nix`: nothing for the whole store (`store`), or the
 * skeleton directory of its closure and the store paths to bind over it (`closure`).
 */
export type PreparedStoreMount =
  | { readonly kind: "store" }
  | {
      readonly kind: "closure";
      /** `<state-dir>/closure-root/<id>`: `store/<name>` mount points, symlinks copied as they are. */
      readonly skeleton: string;
      /** The closure's directories and files, each bound read-only over its mount point. */
      readonly paths: readonly StorePath[];
    };

/** The private layers of a mutable `/nix` (SPEC §6), one file system as overlayfs requires. Pure. */
export function overlayDirs(stateDir: string, containerId: string): { upper: string; work: string } {
  const overlay = statePaths(stateDir, containerId).overlay;
  return { upper: join(overlay, "upper"), work: join(overlay, "work") };
}

/**
 * Makes the per-container directories a Flox container's `/nix` needs under the state directory
 * (SPEC §6): the private layers of a mutable `/nix`, and for `[runtime] mount = "closure"` a skeleton
 * holding a mount point per closure path. `removeContainerRecord` deletes them. The mount itself is
 * {@link storeMountModifier}'s (pure).
 */
export async function prepareStoreMount(input: StoreMountInput): Promise<PreparedStoreMount> {
  if (input.nixMutable) {
    const overlay = overlayDirs(input.stateDir, input.containerId);
    await mkdir(overlay.upper, { recursive: true, mode: 0o755 });
    await mkdir(overlay.work, { recursive: true, mode: 0o700 });
  }
  if (input.mode === "store") return { kind: "store" };
  const closure = await input.closure(input.roots);
  const skeleton = statePaths(input.stateDir, input.containerId).closureRoot;
  // A fresh skeleton: a retried create must not keep mount points of an earlier closure.
  await rm(skeleton, { recursive: true, force: true });
  await mkdir(join(skeleton, "store"), { recursive: true, mode: 0o755 });
  const bound: StorePath[] = [];
  for (const path of closure) {
    const host = hostStorePath(input.storeRoot, path);
    const info = await lstat(host);
    const point = join(skeleton, path.slice("/nix/".length));
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
  return { kind: "closure", skeleton, paths: bound };
}

/**
 * The `/nix` of a Flox container (SPEC §6): the node's whole `/nix` (`store`) or only the closure
 * {@link prepareStoreMount} prepared (`closure`), read-only or, with `overlay` (`nix-mutable`), with
 * a private writable layer. Pure.
 */
export function storeMountModifier(
  prepared: PreparedStoreMount,
  node: { readonly storeRoot: string; readonly overlay?: { readonly upper: string; readonly work: string } },
): SpecModifier {
  const nixDir = join(node.storeRoot, "nix");
  if (prepared.kind === "store") {
    return node.overlay === undefined
      ? mountStore(nixDir)
      : mountStoreOverlay({ lower: nixDir, ...node.overlay });
  }
  return mountClosure({
    skeleton: prepared.skeleton,
    paths: prepared.paths,
    hostPath: (path) => hostStorePath(node.storeRoot, path as StorePath),
    ...(node.overlay === undefined ? {} : { overlay: node.overlay }),
  });
}

function hostStorePath(storeRoot: string, path: StorePath): string {
  return realPath({ storeRoot, substituters: [], trustedPublicKeys: [], requireSigs: true }, path);
}

/** The store path a file in the store belongs to (`/nix/store/<hash>-<name>/bin/bash` → `/nix/store/<hash>-<name>`). Pure. */
export function storePathOf(file: string): StorePath | undefined {
  const match = /^\/nix\/store\/[^/]+/.exec(file);
  return match === null ? undefined : (match[0] as StorePath);
}
