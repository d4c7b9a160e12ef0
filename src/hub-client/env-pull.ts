import { ImagelessError } from "../errors/imageless-error.js";
import { deriveGitBaseUrl, floxmetaUrl } from "../floxhub/git-url.js";
import { parseGenerationsMetadata } from "../floxhub/metadata.js";
import { pickGeneration } from "../floxhub/resolve.js";
import type { Secret } from "../log/secret.js";
import type { EnvRef } from "./api-client.js";
import { writeEnvironmentDir } from "./environment-dir.js";
import { fetchBranch, readCommitFiles, withScratchRepo } from "./floxmeta-branch.js";

/** Options of {@link pullEnvironment}. */
export interface PullOptions {
  readonly ref: EnvRef;
  /** Where to write `.flox/env/…`. */
  readonly dir: string;
  /** A generation; the live one when absent. */
  readonly generation?: number;
  readonly hubUrl: string;
  readonly token?: Secret;
  readonly gitUrl?: string;
}

/** What {@link pullEnvironment} wrote. */
export interface PullResult {
  readonly ref: EnvRef;
  readonly generation: number;
  readonly live: boolean;
  readonly files: readonly string[];
}

/**
 * Writes `DIR/.flox/env/manifest.toml` and `manifest.lock` of the live (or given) generation of
 * `owner/name`, read from its floxmeta branch over git.
 *
 * @throws {ImagelessError} `not-found` for a missing environment or generation, `unauthorized`.
 * @example
 * await pullEnvironment({ ref: { owner: "acme", name: "web" }, dir: ".", hubUrl, token });
 */
export async function pullEnvironment(opts: PullOptions): Promise<PullResult> {
  const display = `${opts.ref.owner}/${opts.ref.name}`;
  const remote = {
    url: floxmetaUrl(deriveGitBaseUrl(opts.hubUrl, opts.gitUrl), opts.ref.owner),
    ...(opts.token === undefined ? {} : { token: opts.token }),
  };
  return await withScratchRepo(async (repo) => {
    const tip = await fetchBranch(repo, remote, opts.ref.name);
    if (tip === undefined)
      throw new ImagelessError("not-found", `environment '${display}' not found at ${remote.url}`);
    const meta = parseGenerationsMetadata(tip.metadataText, `metadata.json of '${display}'`);
    const generation = pickGeneration(
      { ...opts.ref, ...(opts.generation === undefined ? {} : { generation: opts.generation }) },
      meta.generations,
      meta.liveGeneration,
    );
    const [manifestToml, lockText] = await readCommitFiles(repo, tip.commit, [
      `${generation}/env/manifest.toml`,
      `${generation}/env/manifest.lock`,
    ]);
    if (manifestToml === undefined) {
      throw new ImagelessError("not-found", `generation ${generation} of '${display}' has no manifest.toml`);
    }
    const files = await writeEnvironmentDir(opts.dir, {
      name: opts.ref.name,
      manifestToml,
      ...(lockText === undefined ? {} : { lockText }),
    });
    return { ref: opts.ref, generation, live: generation === meta.liveGeneration, files };
  });
}
