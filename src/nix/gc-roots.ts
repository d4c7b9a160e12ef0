import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { lstat, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { ImagelessError } from "../errors/imageless-error.js";
import { replaceSymlink } from "../fs/replace-symlink.js";
import type { NixStore } from "./nix-store.js";
import type { StorePath } from "./store-path.js";

/**
 * Makes `rootLink` a symlink to `path` that Nix's garbage collector honours: `path` and its closure
 * survive `nix-store --gc` until {@link removeGcRoot}. The link is an indirect root, registered the way
 * `nix-store --add-root` registers one (a symlink to it under `<store>/nix/var/nix/gcroots/auto`, which
 * the collector scans), so it may live anywhere, e.g. in the node's state directory. Done with two
 * symlinks rather than a `nix-store` process because it runs on every container start, where a Nix
 * process cost ~40 ms (bench/README.md). `path` must already be valid: callers root what they have
 * just realised or built.
 *
 * @example
 * await addGcRoot(profile, "/var/lib/imageless/gcroots/abc", store);
 */
export async function addGcRoot(path: StorePath, rootLink: string, store: NixStore): Promise<void> {
  linkInDirectory(rootLink, path);
  // Any name works: the collector follows every link in gcroots/auto. A hash of the link's path keeps
  // one entry per link, as Nix's own registration does.
  const name = createHash("sha1").update(rootLink).digest("hex");
  linkInDirectory(join(store.storeRoot, "nix", "var", "nix", "gcroots", "auto", name), rootLink);
}

/**
 * Points `link` at `target` (atomically), making its directory first. Synchronous: metadata calls of
 * microseconds on every start (see replaceSymlink).
 */
function linkInDirectory(link: string, target: string): void {
  mkdirSync(dirname(link), { recursive: true });
  replaceSymlink(link, target);
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
