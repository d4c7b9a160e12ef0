import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImagelessError } from "../errors/imageless-error.js";
import { type GitPerson, writeCommit } from "../git/commit-writer.js";
import { withObjectReader } from "../git/object-reader.js";
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
export const FLOX_IDENTITY: GitPerson = { name: "Flox User", email: "floxuser@example.invalid" };

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
  const tip = await withObjectReader(repo, async (objects) => {
    const commit = await objects.resolveCommit(`refs/heads/${name}`);
    if (commit === undefined) {
      throw new ImagelessError("internal", `git fetch of branch '${name}' from ${remote.url} left no commit`);
    }
    const [metadataText] = await objects.readTextFiles(commit, ["metadata.json"]);
    return { commit, metadataText };
  });
  if (tip.metadataText === undefined) {
    throw new ImagelessError(
      "invalid-input",
      `branch '${name}' of ${remote.url} has no metadata.json: it is not a Flox generations branch`,
    );
  }
  return { commit: tip.commit, metadataText: tip.metadataText };
}

/**
 * Reads files of a fetched commit, by one git process; undefined for a path the commit does not have.
 */
export async function readCommitFiles(
  repo: string,
  commit: string,
  paths: readonly string[],
): Promise<(string | undefined)[]> {
  return await withObjectReader(repo, (objects) => objects.readTextFiles(commit, paths));
}

/**
 * One commit in `repo` from `parent` (none: a root commit) with `files` added or replaced, as Flox
 * commits (its fixed identity). Returns the commit id; no ref moves.
 */
export async function commitFiles(
  repo: string,
  change: { parent?: string; message: string; files: Readonly<Record<string, string>> },
): Promise<string> {
  return await writeCommit(repo, {
    parents: change.parent === undefined ? [] : [change.parent],
    files: change.files,
    message: change.message,
    author: FLOX_IDENTITY,
  });
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
