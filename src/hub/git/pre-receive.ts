/**
 * The hub's pre-receive hook: `git receive-pack` runs it (through the script the git service
 * installs in each floxmeta repository) with the pushed ref updates on stdin, before any ref moves.
 * It reads the new objects from git's quarantine, asks push-validation.ts, and on a refusal prints
 * one line (git shows it as `remote: …`) and exits 1, so every ref of the push stays unchanged.
 */
import { ImagelessError } from "../../errors/imageless-error.js";
import { type ObjectReader, withObjectReader } from "../../git/object-reader.js";
import { runGit } from "../../git/run-git.js";
import {
  type BranchFacts,
  checkRefUpdate,
  isZeroId,
  largestBlob,
  MAX_BLOB_VARIABLE,
  PUSH_ACCESS_VARIABLE,
  type PushAccess,
  type PushVerdict,
  parsePushAccess,
  parseRefUpdates,
  type RefUpdate,
  validateBranchUpdate,
} from "./push-validation.js";

// receive-pack points these at the quarantined objects; git children of the hook need them to see
// the pushed commits (runGit starts git with a clean environment).
const GIT_VARIABLES = [
  "GIT_DIR",
  "GIT_OBJECT_DIRECTORY",
  "GIT_ALTERNATE_OBJECT_DIRECTORIES",
  "GIT_QUARANTINE_PATH",
];

async function main(): Promise<number> {
  const access = parsePushAccess(process.env[PUSH_ACCESS_VARIABLE]);
  const updates = parseRefUpdates(await readStdin());
  // receive-pack runs the hook in the repository.
  return await withObjectReader(
    process.cwd(),
    async (objects) => {
      for (const update of updates) {
        const verdict = await judge(objects, update, access);
        if (!verdict.accepted) {
          process.stderr.write(`imageless hub: push refused: ${oneLine(verdict.reason)}\n`);
          return 1;
        }
      }
      return 0;
    },
    { env: quarantineEnv() },
  );
}

async function judge(objects: ObjectReader, update: RefUpdate, access: PushAccess): Promise<PushVerdict> {
  const byRef = checkRefUpdate(update, access);
  if (!byRef.accepted) return byRef;
  return validateBranchUpdate(update.ref.slice("refs/heads/".length), await readFacts(objects, update));
}

async function readFacts(objects: ObjectReader, update: RefUpdate): Promise<BranchFacts> {
  const isNew = isZeroId(update.oldId);
  const listing = await git(["ls-tree", "-r", "-l", "-z", update.newId]);
  const files = listing.split("\0").map((record) => record.slice(record.indexOf("\t") + 1));
  const maxFileBytes = Number(process.env[MAX_BLOB_VARIABLE] ?? Number.NaN);
  const largestFile = largestBlob(listing);
  const common = {
    fastForward: isNew || (await isAncestor(update.oldId, update.newId)),
    newFiles: new Set(files.filter((file) => file !== "")),
    ...(largestFile === undefined ? {} : { largestFile }),
    ...(Number.isSafeInteger(maxFileBytes) ? { maxFileBytes } : {}),
  };
  // A file over the limit is never read (that is the limit's point): judge on sizes alone.
  if (
    largestFile !== undefined &&
    common.maxFileBytes !== undefined &&
    largestFile.bytes > common.maxFileBytes
  ) {
    return common;
  }
  const oldMetadata = isNew ? undefined : await readText(objects, update.oldId, "metadata.json");
  const newMetadata = files.includes("metadata.json")
    ? await readText(objects, update.newId, "metadata.json")
    : undefined;
  return {
    ...common,
    ...(oldMetadata === undefined ? {} : { oldMetadata }),
    ...(newMetadata === undefined ? {} : { newMetadata }),
  };
}

async function readText(objects: ObjectReader, commit: string, path: string): Promise<string | undefined> {
  return (await objects.readFile(commit, path))?.toString("utf8");
}

async function isAncestor(older: string, newer: string): Promise<boolean> {
  try {
    await git(["merge-base", "--is-ancestor", older, newer]);
    return true;
  } catch {
    // exit status 1 means "not an ancestor"; any other failure refuses the push too.
    return false;
  }
}

async function git(args: readonly string[]): Promise<string> {
  return (await runGit(args, { cwd: process.cwd(), env: quarantineEnv() })).stdout.toString("utf8");
}

function quarantineEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of GIT_VARIABLES) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ");
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = error instanceof ImagelessError ? error.message : String(error);
    process.stderr.write(`imageless hub: push refused: internal error: ${oneLine(message)}\n`);
    process.exit(1);
  },
);
