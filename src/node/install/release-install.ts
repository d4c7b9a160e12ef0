import { randomBytes } from "node:crypto";
import { cp, lstat, mkdir, readdir, readlink, rename, rm, writeFile } from "node:fs/promises";
import { posix } from "node:path";
import { replaceSymlink } from "../../fs/replace-symlink.js";
import { onHost } from "./host-root.js";
import type { ReleaseEntry } from "./release-files.js";

/**
 * The installed layout under the prefix (`/opt/imageless`):
 * `releases/<id>/…` (one directory per build), `current` → `releases/<id>`, `bin` → `current/bin`.
 * containerd's BinaryName is `<prefix>/bin/imageless-runc`, a path that never changes; an upgrade
 * copies the new build beside the old one and then swaps `current` with one rename, so every runc
 * call of a running container sees either the whole old build or the whole new one.
 */
export function releaseLayout(prefix: string) {
  return {
    releases: posix.join(prefix, "releases"),
    release: (id: string) => posix.join(prefix, "releases", id),
    current: posix.join(prefix, "current"),
    bin: posix.join(prefix, "bin"),
    record: posix.join(prefix, "install.json"),
  };
}

/** A marker written last into a release dir: without it the copy did not finish. */
const COMPLETE = ".complete";

/** What {@link installRelease} did. */
export interface ReleaseOutcome {
  readonly id: string;
  /** False when this release was already current. */
  readonly changed: boolean;
  /** The release `current` pointed to before, if another. */
  readonly previous: string | undefined;
}

/**
 * Copies a release into place (when not there yet) and makes it current; keeps the previous
 * release (a runc call that started a moment ago may still be reading it) and removes older ones.
 */
export async function installRelease(
  entries: readonly ReleaseEntry[],
  id: string,
  opts: { hostRoot: string; prefix: string },
): Promise<ReleaseOutcome> {
  const layout = releaseLayout(opts.prefix);
  const local = (path: string) => onHost(opts.hostRoot, path);
  const previous = await currentRelease(opts);
  const dir = local(layout.release(id));
  if (!(await exists(posix.join(dir, COMPLETE)))) {
    await mkdir(local(layout.releases), { recursive: true, mode: 0o755 });
    const temp = `${dir}.tmp-${randomBytes(6).toString("hex")}`;
    try {
      for (const entry of entries) {
        const skip = entry.skip;
        await cp(entry.source, posix.join(temp, entry.target), {
          recursive: true,
          verbatimSymlinks: true,
          preserveTimestamps: true,
          ...(skip === undefined
            ? {}
            : { filter: (src: string) => !skip(posix.relative(entry.source, src)) }),
        });
      }
      await writeFile(posix.join(temp, COMPLETE), `${id}\n`);
      await rm(dir, { recursive: true, force: true });
      await rename(temp, dir);
    } catch (error) {
      await rm(temp, { recursive: true, force: true });
      throw error;
    }
  }
  await pointLink(local(layout.current), `releases/${id}`);
  await pointLink(local(layout.bin), "current/bin");
  const keep = new Set([id, ...(previous !== undefined && previous !== id ? [previous] : [])]);
  for (const name of await readdir(local(layout.releases))) {
    if (!keep.has(name)) await rm(posix.join(local(layout.releases), name), { recursive: true, force: true });
  }
  return { id, changed: previous !== id, previous: previous !== id ? previous : undefined };
}

/** The id `current` points at, or undefined before the first install. */
export async function currentRelease(opts: {
  hostRoot: string;
  prefix: string;
}): Promise<string | undefined> {
  const target = await readlink(onHost(opts.hostRoot, releaseLayout(opts.prefix).current)).catch(
    () => undefined,
  );
  return target === undefined ? undefined : posix.basename(target);
}

/** Removes every installed release and link (not the prefix's other files). */
export async function removeReleases(opts: { hostRoot: string; prefix: string }): Promise<boolean> {
  const layout = releaseLayout(opts.prefix);
  const local = (path: string) => onHost(opts.hostRoot, path);
  const had = (await exists(local(layout.current))) || (await exists(local(layout.releases)));
  // Links first: a runc call from here on fails at once instead of finding half a tree.
  await rm(local(layout.bin), { force: true });
  await rm(local(layout.current), { force: true });
  await rm(local(layout.releases), { recursive: true, force: true });
  return had;
}

/** Points `link` at `target` (atomically) unless it already does. */
async function pointLink(link: string, target: string): Promise<void> {
  const current = await readlink(link).catch(() => undefined);
  if (current !== target) replaceSymlink(link, target);
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}
