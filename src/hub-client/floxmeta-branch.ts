import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImagelessError } from "../errors/imageless-error.js";
import { runGit } from "../git/run-git.js";
import type { Secret } from "../log/secret.js";

/** A floxmeta repository on the hub and the token to reach it. */
export interface FloxmetaRemote {
  /** `<git-base>/<owner>/floxmeta` */
  readonly url: string;
  readonly token?: Secret;
}

/** The tip of an environment's branch, fetched into a scratch repository. */
export interface BranchTip {
  readonly commit: string;
  readonly metadataText: string;
}

// Flox commits with this fixed identity (research/flox-formats.md §1.1); the person is in metadata.json.
const IDENTITY = {
  GIT_AUTHOR_NAME: "Flox User",
  GIT_AUTHOR_EMAIL: "floxuser@example.invalid",
  GIT_COMMITTER_NAME: "Flox User",
  GIT_COMMITTER_EMAIL: "floxuser@example.invalid",
};

/**
 * Runs `work` with a fresh bare scratch repository, removed afterwards (also on failure).
 *
 * @example
 * await withScratchRepo(async (repo) => fetchBranch(repo, remote, "web"));
 */
export async function withScratchRepo<T>(work: (repo: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "imageless-floxmeta-"));
  try {
    const repo = join(dir, "repo.git");
    await runGit(["init", "--quiet", "--bare", repo]);
    return await work(repo);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Fetches branch `name` of `remote` into `repo`; undefined when the branch (or the owner's repository)
 * does not exist yet.
 *
 * @throws {ImagelessError} `unauthorized`, `unavailable`; `invalid-input` when the branch has no metadata.json.
 */
export async function fetchBranch(
  repo: string,
  remote: FloxmetaRemote,
  name: string,
): Promise<BranchTip | undefined> {
  const auth = authOf(remote);
  try {
    const { stdout } = await runGit(["ls-remote", "--", remote.url, `refs/heads/${name}`], auth);
    if (stdout.toString("utf8").trim() === "") return undefined;
    await runGit(
      [
        "--git-dir",
        repo,
        "fetch",
        "--quiet",
        "--no-tags",
        "--",
        remote.url,
        `+refs/heads/${name}:refs/heads/${name}`,
      ],
      auth,
    );
  } catch (error) {
    if (error instanceof ImagelessError && error.kind === "not-found") return undefined;
    throw atHub(error, `reading environment branch '${name}' from ${remote.url}`);
  }
  const commit = (
    await runGit(["--git-dir", repo, "rev-parse", "--verify", `refs/heads/${name}^{commit}`])
  ).stdout
    .toString("utf8")
    .trim();
  let metadataText: string;
  try {
    metadataText = (
      await runGit(["--git-dir", repo, "cat-file", "blob", `${commit}:metadata.json`])
    ).stdout.toString("utf8");
  } catch (error) {
    throw new ImagelessError(
      "invalid-input",
      `branch '${name}' of ${remote.url} has no metadata.json: it is not a Flox generations branch`,
      { cause: error },
    );
  }
  return { commit, metadataText };
}

/**
 * Reads one file of a fetched commit; undefined when the commit has no such path.
 */
export async function readCommitFile(
  repo: string,
  commit: string,
  path: string,
): Promise<string | undefined> {
  try {
    return (await runGit(["--git-dir", repo, "cat-file", "blob", `${commit}:${path}`])).stdout.toString(
      "utf8",
    );
  } catch {
    return undefined;
  }
}

/**
 * One commit in `repo` from `parent` (none: a root commit) with `files` added or replaced, through a
 * private index file. Returns the commit id.
 */
export async function commitFiles(
  repo: string,
  change: { parent?: string; message: string; files: Readonly<Record<string, string>> },
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "imageless-index-"));
  try {
    const env = { ...IDENTITY, GIT_INDEX_FILE: join(dir, "index") };
    const git = async (args: string[], input?: string) =>
      (await runGit(["--git-dir", repo, ...args], { env, ...(input === undefined ? {} : { input }) })).stdout
        .toString("utf8")
        .trim();
    await git(
      change.parent === undefined ? ["read-tree", "--empty"] : ["read-tree", `${change.parent}^{tree}`],
    );
    for (const [path, content] of Object.entries(change.files)) {
      const blob = await git(["hash-object", "-w", "--stdin"], content);
      await git(["update-index", "--add", "--cacheinfo", `100644,${blob},${path}`]);
    }
    const tree = await git(["write-tree"]);
    const parents = change.parent === undefined ? [] : ["-p", change.parent];
    return await git(["commit-tree", tree, ...parents, "-m", change.message]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Pushes `commit` to branch `name` of `remote`. Not forced: if someone pushed in between, the hub
 * refuses the non-fast-forward and the caller can start again from the new tip.
 *
 * @throws {ImagelessError} with the hub's own refusal line (push validation) when it has one.
 */
export async function pushCommit(
  repo: string,
  remote: FloxmetaRemote,
  commit: string,
  name: string,
): Promise<void> {
  try {
    await runGit(
      ["--git-dir", repo, "push", "--quiet", "--", remote.url, `${commit}:refs/heads/${name}`],
      authOf(remote),
    );
  } catch (error) {
    if (!(error instanceof ImagelessError)) throw error;
    const stderr = error.cause instanceof Error ? error.cause.message : "";
    const line = pushFailureLine(stderr);
    if (line === undefined) throw atHub(error, `pushing environment branch '${name}' to ${remote.url}`);
    throw new ImagelessError(
      line.kind,
      `pushing environment branch '${name}' to ${remote.url}: ${line.text}`,
      {
        cause: error,
      },
    );
  }
}

/**
 * What a person should read from a failed `git push` (pure): the hub's `remote:` message, or a
 * lost race (`fetch first` / non-fast-forward). Undefined for other failures.
 */
export function pushFailureLine(stderr: string): { kind: "failed-precondition"; text: string } | undefined {
  const remote = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith("remote:"))
    .map((l) => l.replace(/^remote:\s*/, "").replace(/^(error|fatal):\s*/, ""))
    .filter((l) => l !== "");
  if (remote.length > 0)
    return { kind: "failed-precondition", text: `the hub refused it: ${remote.join("; ")}` };
  if (/\(fetch first\)|non-fast-forward/.test(stderr)) {
    return {
      kind: "failed-precondition",
      text: "someone else changed the environment meanwhile; run the command again",
    };
  }
  return undefined;
}

function authOf(remote: FloxmetaRemote): { token?: Secret; authUrl?: string } {
  return remote.token === undefined ? {} : { token: remote.token, authUrl: remote.url };
}

function atHub(error: unknown, action: string): unknown {
  if (!(error instanceof ImagelessError)) return error;
  const hint =
    error.kind === "unauthorized"
      ? "access denied; check the token (`imageless auth login`) and its rights"
      : error.message;
  return new ImagelessError(error.kind, `${action}: ${hint}`, { cause: error });
}
