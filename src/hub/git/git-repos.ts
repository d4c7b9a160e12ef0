/**
 * The hub's floxmeta repositories on disk: `<dataDir>/git/<owner>/floxmeta`, bare, each with the
 * hub's pre-receive hook installed.
 */
import { access, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runGit } from "../../git/run-git.js";
import { readBranchFiles } from "./git-ref-files.js";

/** The directory holding `<owner>/floxmeta` (git http-backend's project root). */
export function gitRoot(dataDir: string): string {
  return join(dataDir, "git");
}

/** The bare repository of `owner`. */
export function repoPath(dataDir: string, owner: string): string {
  return join(gitRoot(dataDir), owner, "floxmeta");
}

/** True when `owner` has a repository. */
export async function repoExists(dataDir: string, owner: string): Promise<boolean> {
  return access(join(repoPath(dataDir, owner), "HEAD")).then(
    () => true,
    () => false,
  );
}

/**
 * The branches (environments) of `owner`'s repository with their tip commit ids; empty when the
 * repository does not exist.
 */
export async function listBranches(dataDir: string, owner: string): Promise<Map<string, string>> {
  const branches = new Map<string, string>();
  if (!(await repoExists(dataDir, owner))) return branches;
  // Every git request lists them: from the ref files when they are readable, no git process.
  const fromFiles = await readBranchFiles(repoPath(dataDir, owner));
  if (fromFiles !== undefined) return fromFiles;
  const { stdout } = await runGit([
    "--git-dir",
    repoPath(dataDir, owner),
    "for-each-ref",
    "--format=%(objectname) %(refname:lstrip=2)",
    "refs/heads/",
  ]);
  for (const line of stdout.toString("utf8").split("\n")) {
    const space = line.indexOf(" ");
    if (space > 0) branches.set(line.slice(space + 1), line.slice(0, space));
  }
  return branches;
}

/**
 * Creates `owner`'s bare repository when missing and (re)installs the pre-receive hook, so a hub that
 * moved or was upgraded still validates pushes with its current code. Safe to run concurrently:
 * `git init` on an existing repository only re-initialises it, and the hook is written whole.
 */
export async function ensureRepo(dataDir: string, owner: string): Promise<void> {
  const repo = repoPath(dataDir, owner);
  if (!(await repoExists(dataDir, owner))) {
    await mkdir(repo, { recursive: true });
    await runGit(["init", "--quiet", "--bare", repo]);
    const set = (key: string, value: string) => runGit(["--git-dir", repo, "config", key, value]);
    // The hook refuses these with a clearer line first; git's own checks stay as a second guard.
    await set("receive.denyNonFastForwards", "true");
    await set("receive.denyDeletes", "true");
    // Reflogs keep who moved which environment when, next to metadata.json's history.
    await set("core.logAllRefUpdates", "always");
  }
  await installHook(repo);
}

async function installHook(repo: string): Promise<void> {
  const program = fileURLToPath(new URL("./pre-receive.js", import.meta.url));
  const script = `#!/bin/sh\n# Installed by the imageless hub: validates floxmeta pushes.\nexec ${shellQuote(process.execPath)} ${shellQuote(program)}\n`;
  const path = join(repo, "hooks", "pre-receive");
  const current = await readFile(path, "utf8").catch(() => undefined);
  if (current === script) return;
  await mkdir(join(repo, "hooks"), { recursive: true });
  // Written to a temporary name and renamed: a push running meanwhile sees the old or the new hook.
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, script, { mode: 0o755 });
  await rename(temp, path);
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
