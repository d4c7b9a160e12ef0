/**
 * A bare repository's branches read straight from its files — loose `refs/heads/*` and `packed-refs` —
 * instead of a `git for-each-ref` process per request (the hub lists an owner's branches on every git
 * request to decide the caller's view). Git 2.39's "files" ref backend only; a repository in another
 * format (reftable) is reported as unreadable so the caller asks git.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/**
 * `packed-refs` text → branch name → commit, for `refs/heads/` entries (pure). Peeled lines (`^…`) and
 * comments are skipped.
 *
 * @example
 * parsePackedBranches("# pack-refs with: peeled fully-peeled sorted\n" + sha + " refs/heads/web\n"); // Map { "web" => sha }
 */
export function parsePackedBranches(text: string): Map<string, string> {
  const branches = new Map<string, string>();
  for (const line of text.split("\n")) {
    const space = line.indexOf(" ");
    if (space < 0 || line.startsWith("#") || line.startsWith("^")) continue;
    const sha = line.slice(0, space);
    const name = line.slice(space + 1).trim();
    if (SHA.test(sha) && name.startsWith("refs/heads/")) branches.set(name.slice("refs/heads/".length), sha);
  }
  return branches;
}

/**
 * The branches of the bare repository `repo` with their tips, or undefined when the files cannot be
 * read as the "files" backend (the caller then runs git).
 *
 * Race with `git pack-refs` (run by gc): it writes `packed-refs` first and deletes loose refs after,
 * so the loose refs are read first and `packed-refs` last — a ref whose loose file vanished in between
 * is then found packed. A loose ref wins over a packed one, as in git.
 */
export async function readBranchFiles(repo: string): Promise<Map<string, string> | undefined> {
  if (await exists(join(repo, "reftable"))) return undefined;
  const loose = new Map<string, string>();
  const headsDir = join(repo, "refs", "heads");
  let names: string[];
  try {
    names = (await readdir(headsDir, { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isFile() && !entry.name.endsWith(".lock"))
      .map((entry) => join(entry.parentPath ?? entry.path, entry.name).slice(headsDir.length + 1));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") return undefined;
    names = [];
  }
  for (const name of names) {
    const text = await readFile(join(headsDir, name), "utf8").catch(() => undefined);
    if (text === undefined) continue; // packed meanwhile: read below
    const sha = text.trim();
    if (!SHA.test(sha)) return undefined; // a symbolic ref or something newer: let git answer
    loose.set(name, sha);
  }
  const packedText = await readFile(join(repo, "packed-refs"), "utf8").catch(() => "");
  return new Map([...parsePackedBranches(packedText), ...loose]);
}

async function exists(path: string): Promise<boolean> {
  return readdir(path).then(
    () => true,
    () => false,
  );
}
