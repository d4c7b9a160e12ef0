/**
 * The store paths an environment's locks list, read from its floxmeta branch: every generation's
 * `N/env/manifest.lock` at the branch tip (a node may start any generation, not only the live one).
 */
import { parseLockfile } from "../../environment/lockfile.js";
import { runGit } from "../../git/run-git.js";
import type { Logger } from "../../log/logger.js";
import { hashPart } from "./narinfo.js";

/**
 * Hash parts of every store path listed in any generation's lock on `tip` of the bare repository
 * `repo`. A lock that does not parse contributes nothing (and is logged): it cannot be started either.
 */
export async function readLockedPaths(
  repo: string,
  tip: string,
  opts: { readonly environment: string; readonly log: Logger },
): Promise<Set<string>> {
  const listing = await runGit(["--git-dir", repo, "ls-tree", "-r", "-z", "--name-only", tip]);
  const locks = listing.stdout
    .toString("utf8")
    .split("\0")
    .filter((path) => /^[1-9][0-9]*\/env\/manifest\.lock$/.test(path));
  const hashes = new Set<string>();
  if (locks.length === 0) return hashes;
  // One git process for every lock of the branch.
  const batch = await runGit(["--git-dir", repo, "cat-file", "--batch"], {
    input: locks.map((path) => `${tip}:${path}\n`).join(""),
  });
  for (const [index, text] of splitBatch(batch.stdout).entries()) {
    const source = `${locks[index] ?? "manifest.lock"} of '${opts.environment}'`;
    try {
      for (const pkg of parseLockfile(text, source).packages) {
        const paths = pkg.kind === "store-path" ? [pkg.storePath] : Object.values(pkg.outputs);
        for (const path of paths) hashes.add(hashPart(path));
      }
    } catch (error) {
      opts.log.warn("hub.cache.lock_unreadable", {
        environment: opts.environment,
        lock: source,
        error: String(error),
      });
    }
  }
  return hashes;
}

/** The blobs of `git cat-file --batch` output: `<id> blob <size>\n<content>\n` each. */
export function splitBatch(output: Buffer): string[] {
  const blobs: string[] = [];
  let at = 0;
  while (at < output.length) {
    const newline = output.indexOf(0x0a, at);
    if (newline < 0) break;
    const header = output.subarray(at, newline).toString("utf8").split(" ");
    const size = header[1] === "blob" ? Number(header[2]) : Number.NaN;
    if (!Number.isSafeInteger(size)) {
      // `<name> missing`: keep positions aligned with the request lines.
      blobs.push("");
      at = newline + 1;
      continue;
    }
    blobs.push(output.subarray(newline + 1, newline + 1 + size).toString("utf8"));
    at = newline + 1 + size + 1;
  }
  return blobs;
}
