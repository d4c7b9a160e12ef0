import { ImagelessError } from "../../errors/imageless-error.js";
import {
  appendSwitch,
  type ChangeInfo,
  type GenerationsMetadata,
  type HistoryEntry,
  type MetadataJson,
  parseGenerationsMetadata,
} from "../../floxhub/metadata.js";
import { writeCommit } from "../../git/commit-writer.js";
import { moveRef, RefMovedError } from "../../git/refs.js";
import { readEnvironmentState } from "./environment-reader.js";

/** How a live-generation change is made. */
export interface SwitchOptions {
  /** The owner's bare repository. */
  readonly repo: string;
  readonly name: string;
  /** `owner/name`, for messages. */
  readonly ref: string;
  /** Picks the generation to make live from the current metadata (e.g. a fixed N, or the rollback target). */
  readonly target: (meta: GenerationsMetadata) => number;
  /** Who, where, when (author, hostname, timestamp); the kind is always `switch_generation`. */
  readonly change: ChangeInfo;
}

const ATTEMPTS = 5;

/**
 * Makes another generation live the way Flox does: one new commit on the branch rewriting only
 * `metadata.json` with a `switch_generation` history entry; no new generation. The ref moves by
 * compare-and-swap, so a push or switch that landed meanwhile is never lost: the change is redone
 * on the new tip.
 *
 * @returns the history entry written.
 * @throws {ImagelessError} `not-found` (no such environment or generation), `failed-precondition`
 *   (already live, or no earlier generation), `unsupported` (metadata.json version 1).
 */
export async function switchGeneration(opts: SwitchOptions): Promise<HistoryEntry> {
  for (let attempt = 1; ; attempt++) {
    const state = await readEnvironmentState(opts.repo, opts.name, { ref: opts.ref });
    if (state === undefined)
      throw new ImagelessError("not-found", `environment "${opts.ref}" does not exist`);
    if (state.meta.version !== 2) {
      throw new ImagelessError(
        "unsupported",
        `environment "${opts.ref}" has metadata.json version 1: push it again with a current Flox to switch generations`,
      );
    }
    const to = opts.target(state.meta);
    if (to === state.meta.liveGeneration) {
      throw new ImagelessError(
        "failed-precondition",
        `environment "${opts.ref}": generation ${to} is already live`,
      );
    }
    const next = appendSwitch(metadataJson(state.metadataText), to, {
      ...opts.change,
      kind: "switch_generation",
    });
    const text = `${JSON.stringify(next, null, 2)}\n`;
    const moved = await commitMetadata(opts, {
      parent: state.commit,
      text,
      message: `Set current generation to ${to}`,
    });
    if (moved) {
      const written = parseGenerationsMetadata(text, `new metadata.json of "${opts.ref}"`).history.at(-1);
      if (written === undefined) throw new ImagelessError("internal", "switch wrote no history entry");
      return written;
    }
    if (attempt < ATTEMPTS) {
      // A little jitter so writers racing for the same ref do not collide again in lockstep.
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.floor(Math.random() * 20 * attempt)));
      continue;
    }
    throw new ImagelessError(
      "unavailable",
      `environment "${opts.ref}" kept changing during the switch; try again`,
    );
  }
}

/** Writes a commit replacing `metadata.json` and moves the branch from `parent`; false when it moved meanwhile. */
async function commitMetadata(
  opts: SwitchOptions,
  commit: { parent: string; text: string; message: string },
): Promise<boolean> {
  const author = opts.change.author;
  const created = await writeCommit(opts.repo, {
    parents: [commit.parent],
    files: { "metadata.json": commit.text },
    message: commit.message,
    author: { name: author, email: `${author}@imageless-hub.invalid` },
    committer: { name: "imageless hub", email: "hub@imageless-hub.invalid" },
  });
  try {
    await moveRef(opts.repo, `refs/heads/${opts.name}`, created, commit.parent);
    return true;
  } catch (error) {
    // Another writer moved the branch (or holds its lock): redo the change on the new tip.
    if (error instanceof RefMovedError) return false;
    throw error;
  }
}

/** metadata.json as the writer's input shape; parseGenerationsMetadata already validated it. */
function metadataJson(text: string): MetadataJson {
  const data: unknown = JSON.parse(text);
  if (
    typeof data === "object" &&
    data !== null &&
    !Array.isArray(data) &&
    "version" in data &&
    data.version === 2
  ) {
    return data as MetadataJson;
  }
  throw new ImagelessError("internal", "metadata.json changed shape while switching");
}
