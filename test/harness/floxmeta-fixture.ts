import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import {
  appendGeneration,
  appendSwitch,
  type ChangeInfo,
  initialMetadata,
  type MetadataJson,
  parseGenerationsMetadata,
} from "../../src/floxhub/metadata.js";
import { writeCommit } from "../../src/git/commit-writer.js";
import { withObjectReader } from "../../src/git/object-reader.js";
import { moveRef } from "../../src/git/refs.js";
import { runGit } from "../../src/git/run-git.js";
import { FLOX_IDENTITY } from "../../src/hub-client/floxmeta-branch.js";
import { floxFixturesDir } from "./repo-root.js";

/** One generation: the manifest text and the lock object written as `N/env/manifest.{toml,lock}`. */
export interface FixtureGeneration {
  readonly manifestToml: string;
  /** The lock as JSON data; omit with `lock: undefined` to write a generation without a lock. */
  readonly lock: object | undefined;
}

export interface FixtureEnv {
  readonly name: string;
  readonly generations: readonly FixtureGeneration[];
}

/** The bare repository `<root>/<owner>/floxmeta`. */
export function floxmetaPath(root: string, owner: string): string {
  return join(root, owner, "floxmeta");
}

/**
 * Writes (or extends) the bare repository `<root>/<owner>/floxmeta` with one branch per environment,
 * committed as Flox does: "Initialize generations branch…" with empty metadata, then one
 * "Create generation N" commit per generation adding `N/env/*` and rewriting `metadata.json`.
 */
export async function writeFloxmeta(root: string, owner: string, envs: readonly FixtureEnv[]): Promise<void> {
  const repo = floxmetaPath(root, owner);
  await mkdir(repo, { recursive: true });
  await runGit(["init", "--quiet", "--bare", repo]);
  for (const env of envs) {
    await commitFiles(
      repo,
      env.name,
      undefined,
      `Initialize generations branch for environment '${env.name}'`,
      {
        "metadata.json": JSON.stringify(initialMetadata(), null, 2),
      },
    );
    for (const generation of env.generations) await addGeneration(root, owner, env.name, generation);
  }
}

/** Adds the next generation to environment `name` and makes it live; returns its number. */
export async function addGeneration(
  root: string,
  owner: string,
  name: string,
  gen: FixtureGeneration,
): Promise<number> {
  const repo = floxmetaPath(root, owner);
  const { commit, meta } = await readTip(repo, name);
  const next = appendGeneration(meta, change(meta.total_generations === 0 ? "initialize" : "edit"));
  const n = next.total_generations;
  const files: Record<string, string> = {
    "metadata.json": JSON.stringify(next, null, 2),
    [`${n}/env/manifest.toml`]: gen.manifestToml,
  };
  if (gen.lock !== undefined) files[`${n}/env/manifest.lock`] = JSON.stringify(gen.lock, null, 2);
  await commitFiles(repo, name, commit, `Create generation ${n}\n\nedited manifest`, files);
  return n;
}

/** Makes `generation` live (a `switch_generation` history entry, one commit changing only metadata.json). */
export async function switchLive(
  root: string,
  owner: string,
  name: string,
  generation: number,
): Promise<void> {
  const repo = floxmetaPath(root, owner);
  const { commit, meta } = await readTip(repo, name);
  const next = appendSwitch(meta, generation, change("switch_generation"));
  await commitFiles(repo, name, commit, `Set current generation to ${generation}`, {
    "metadata.json": JSON.stringify(next, null, 2),
  });
}

function change(kind: string): ChangeInfo {
  return {
    kind,
    author: "fixture",
    hostname: "test",
    timestamp: Math.floor(Date.now() / 1000),
    command: ["flox", "push"],
  };
}

async function readTip(repo: string, name: string): Promise<{ commit: string; meta: MetadataJson }> {
  const { commit, text } = await withObjectReader(repo, async (objects) => {
    const tip = await objects.resolveCommit(`refs/heads/${name}`);
    if (tip === undefined) throw new Error(`fixture ${repo} has no branch ${name}`);
    const [metadata] = await objects.readTextFiles(tip, ["metadata.json"]);
    if (metadata === undefined) throw new Error(`fixture ${name}: no metadata.json`);
    return { commit: tip, text: metadata };
  });
  parseGenerationsMetadata(text, `fixture metadata.json of ${name}`); // validates before we trust the shape
  const data: unknown = JSON.parse(text);
  if (typeof data !== "object" || data === null || !("version" in data) || data.version !== 2) {
    throw new Error(`fixture ${name}: metadata.json is not version 2`);
  }
  return { commit, meta: data as MetadataJson };
}

/** One commit on `refs/heads/<branch>` from `parent` plus `files`, the branch moved only from `parent`. */
async function commitFiles(
  repo: string,
  branch: string,
  parent: string | undefined,
  message: string,
  files: Readonly<Record<string, string>>,
): Promise<string> {
  const commit = await writeCommit(repo, {
    parents: parent === undefined ? [] : [parent],
    files,
    message,
    author: FLOX_IDENTITY,
  });
  await moveRef(repo, `refs/heads/${branch}`, commit, parent ?? "absent");
  return commit;
}

/**
 * Asserts that a metadata.json document has every field Flox's published v2 schema requires: at the
 * top, in each history entry, and in the entry's `kind` branch (e.g. `targets` for `install`).
 */
export function assertSchemaRequiredFields(doc: unknown): void {
  const path = join(floxFixturesDir(), "generations-metadata-v2.schema.json");
  type Branch = { required: string[]; properties: { kind: { const?: string } } };
  const schema = JSON.parse(readFileSync(path, "utf8")) as {
    required: string[];
    $defs: { HistorySpec: { required: string[]; anyOf: Branch[] } };
  };
  assert.ok(typeof doc === "object" && doc !== null);
  const top = doc as Record<string, unknown>;
  for (const key of schema.required) assert.ok(key in top, `metadata lacks ${key}`);
  assert.equal(top["version"], 2);
  assert.ok(Array.isArray(top["history"]));
  for (const entry of top["history"] as Record<string, unknown>[]) {
    for (const key of schema.$defs.HistorySpec.required)
      assert.ok(key in entry, `history entry lacks ${key}`);
    assert.equal(typeof entry["current_generation"], "string");
    assert.equal(typeof entry["timestamp"], "number");
    const branch = schema.$defs.HistorySpec.anyOf.find((b) => b.properties.kind.const === entry["kind"]);
    for (const key of branch?.required ?? ["kind"])
      assert.ok(key in entry, `${String(entry["kind"])} entry lacks ${key}`);
  }
}
