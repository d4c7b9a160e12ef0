import { type Lockfile, manifestFromLock, parseLockfile } from "../../environment/lockfile.js";
import { type Manifest, parseManifestToml } from "../../environment/manifest.js";
import { ImagelessError } from "../../errors/imageless-error.js";
import { type GenerationsMetadata, parseGenerationsMetadata } from "../../floxhub/metadata.js";
import type { ObjectReaderPool } from "../../git/object-reader-pool.js";
import type { CommitCache } from "./commit-cache.js";
import { readBranchTip, readFiles } from "./floxmeta-reader.js";

/** An environment's branch tip and its parsed `metadata.json`. */
export interface EnvironmentState {
  readonly commit: string;
  readonly metadataText: string;
  readonly meta: GenerationsMetadata;
}

/** One generation's manifest and (optional) lock. */
export interface GenerationContent {
  readonly manifest: Manifest;
  readonly lock?: Lockfile;
  /** Roughly the memory the parsed files hold (for the commit cache's bound). */
  readonly bytes: number;
}

/**
 * The tip of environment `ref` (`owner/name`) in `repo`, or undefined when its branch does not exist.
 *
 * @throws {ImagelessError} `internal` when the branch has no readable `metadata.json` (pushes are
 *   validated, so this means the repository was changed behind the hub's back).
 */
export async function readEnvironmentState(
  repo: string,
  name: string,
  opts: { ref: string; cache?: CommitCache; objects?: ObjectReaderPool },
): Promise<EnvironmentState | undefined> {
  const commit = await readBranchTip(repo, name, opts.objects);
  return commit === undefined ? undefined : environmentStateAt(repo, commit, opts);
}

/** {@link readEnvironmentState} when the branch's tip `commit` is known already. */
export async function environmentStateAt(
  repo: string,
  commit: string,
  opts: { ref: string; cache?: CommitCache; objects?: ObjectReaderPool },
): Promise<EnvironmentState> {
  const load = () => readState(repo, commit, opts.ref, opts.objects);
  // Parsed JSON holds a few times its text.
  return opts.cache === undefined
    ? load()
    : opts.cache.get(`${repo}\0${commit}\0state`, load, (state) => 4 * state.metadataText.length);
}

async function readState(
  repo: string,
  commit: string,
  ref: string,
  objects: ObjectReaderPool | undefined,
): Promise<EnvironmentState> {
  const [metadataText] = await readFiles(repo, commit, ["metadata.json"], objects);
  if (metadataText === undefined)
    throw new ImagelessError("internal", `environment "${ref}": its branch has no metadata.json`);
  return {
    commit,
    metadataText,
    meta: stored(() => parseGenerationsMetadata(metadataText, `metadata.json of "${ref}"`)),
  };
}

/**
 * Generation `generation` of the environment at `state`: `N/env/manifest.toml` and, when present,
 * `N/env/manifest.lock`.
 *
 * @throws {ImagelessError} `not-found` when the generation does not exist.
 */
export async function readGeneration(
  repo: string,
  state: EnvironmentState,
  opts: { generation: number; ref: string; cache?: CommitCache; objects?: ObjectReaderPool },
): Promise<GenerationContent> {
  const load = () => readContent(repo, state, opts.generation, opts.ref, opts.objects);
  const key = `${repo}\0${state.commit}\0${opts.generation}`;
  return opts.cache === undefined ? load() : opts.cache.get(key, load, (content) => content.bytes);
}

async function readContent(
  repo: string,
  state: EnvironmentState,
  generation: number,
  ref: string,
  objects: ObjectReaderPool | undefined,
): Promise<GenerationContent> {
  const where = `"${ref}" generation ${generation}`;
  const [toml, lockText] = await readFiles(
    repo,
    state.commit,
    [`${generation}/env/manifest.toml`, `${generation}/env/manifest.lock`],
    objects,
  );
  if (toml === undefined && lockText === undefined) {
    const known = state.meta.generations.join(", ") || "none";
    throw new ImagelessError(
      "not-found",
      `environment ${where} does not exist: its generations are ${known}`,
    );
  }
  const lock =
    lockText === undefined ? undefined : stored(() => parseLockfile(lockText, `manifest.lock of ${where}`));
  const manifest =
    toml !== undefined
      ? stored(() => parseManifestToml(toml, `manifest.toml of ${where}`))
      : stored(() => manifestFromLock(lock as Lockfile));
  const bytes = 4 * ((toml?.length ?? 0) + (lockText?.length ?? 0));
  return { manifest, ...(lock === undefined ? {} : { lock }), bytes };
}

/** Content already in the hub is not the caller's input: a parse failure is the hub's problem (500). */
function stored<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof ImagelessError && error.kind === "invalid-input") {
      throw new ImagelessError("internal", error.message, { cause: error });
    }
    throw error;
  }
}
