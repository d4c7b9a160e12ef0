import { lstat, rm } from "node:fs/promises";
import { ImagelessError } from "../errors/imageless-error.js";
import { type NixStore, storeArgs } from "./nix-store.js";
import { runNix } from "./run-nix.js";
import type { StorePath } from "./store-path.js";

/**
 * Makes `rootLink` a symlink to `path` that Nix's garbage collector honours: `path` and its closure
 * survive `nix-store --gc` until {@link removeGcRoot}. Nix registers the link itself (an indirect root
 * under `<store>/nix/var/nix/gcroots/auto`), so the link may live anywhere, e.g. in a container's state
 * directory. `path` should already be valid (otherwise Nix substitutes it first).
 *
 * @example
 * await addGcRoot(profile, "/var/lib/imageless/containers/abc/profile", store);
 */
export async function addGcRoot(path: StorePath, rootLink: string, store: NixStore): Promise<void> {
  await runNix("nix-store", ["--add-root", rootLink, "--realise", path, ...storeArgs(store)], {
    action: `adding GC root '${rootLink}' for '${path}'`,
  });
}

/**
 * Drops a root made by {@link addGcRoot}; the next `nix-store --gc` may free what only it kept.
 * A missing link is fine (deleting twice is not an error).
 *
 * @throws {ImagelessError} `invalid-input` when `rootLink` exists but is not a symlink.
 */
export async function removeGcRoot(rootLink: string): Promise<void> {
  const info = await lstat(rootLink).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  if (info === undefined) return;
  if (!info.isSymbolicLink()) {
    throw new ImagelessError(
      "invalid-input",
      `removing GC root '${rootLink}': it is not a symlink, refusing to delete it`,
    );
  }
  // Nix's registration in gcroots/auto now dangles; the collector ignores and prunes such entries.
  await rm(rootLink, { force: true });
}
