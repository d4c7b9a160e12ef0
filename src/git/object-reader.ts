/**
 * Reads git objects — files and trees of a commit, what a ref points at — through one long-lived
 * `git cat-file --batch-command` per repository, so a caller making many reads pays for one process.
 * The only reader of git objects in `src/` (resolver, hub, CLI and pre-receive hook use it).
 *
 * One rule for a missing file: `undefined` when the commit exists but has no such path; a thrown
 * error naming the repository, the revision and the path for anything else (no such commit, the
 * path is a directory, git died).
 */
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { ImagelessError } from "../errors/imageless-error.js";
import {
  type BatchRecord,
  type BatchRequestKind,
  parseBatchRecord,
  parseTree,
  type TreeEntry,
} from "./batch-output.js";
import { startGit } from "./run-git.js";

interface Pending {
  readonly kind: BatchRequestKind;
  readonly resolve: (record: BatchRecord) => void;
  readonly reject: (error: Error) => void;
}

/** Where git reads objects from, beyond the repository (the pre-receive hook's quarantine). */
export interface ObjectReaderOptions {
  /** Extra environment for git (GIT_OBJECT_DIRECTORY, GIT_ALTERNATE_OBJECT_DIRECTORIES …). */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * A reader of one repository. git starts at the first request and runs until {@link close}; it
 * keeps Node's event loop alive only while a request is waiting, so a forgotten reader cannot hold
 * a process open (git then ends when its stdin closes).
 *
 * @example
 * const files = await withObjectReader(repo, (r) => r.readTextFiles(commit, ["metadata.json"]));
 */
export class ObjectReader {
  readonly repo: string;
  readonly #env: Readonly<Record<string, string>> | undefined;
  #git: ChildProcessWithoutNullStreams | undefined;
  #buffer: Buffer = Buffer.alloc(0);
  #pending: Pending[] = [];
  #stderr = "";
  #failure: Error | undefined;

  constructor(repo: string, opts: ObjectReaderOptions = {}) {
    this.repo = repo;
    this.#env = opts.env;
  }

  /**
   * The content of `path` in commit `rev`, undefined when that commit has no such path.
   *
   * @throws {ImagelessError} `not-found` when the repository has no commit `rev`; `internal` when
   *   the path is a directory or git fails.
   */
  async readFile(rev: string, path: string): Promise<Buffer | undefined> {
    const [content] = await this.readFiles(rev, [path]);
    return content;
  }

  /** {@link readFile} for several paths of one commit, sent to git together. */
  async readFiles(rev: string, paths: readonly string[]): Promise<(Buffer | undefined)[]> {
    const records = await Promise.all(paths.map((path) => this.#request("contents", `${rev}:${path}`)));
    const missing = records.findIndex((record) => record.kind === "missing");
    if (missing >= 0 && (await this.resolveCommit(rev)) === undefined) {
      throw new ImagelessError(
        "not-found",
        `git repository ${this.repo} has no commit ${rev} (reading ${paths[missing]})`,
      );
    }
    return records.map((record, i) => {
      if (record.kind === "missing") return undefined;
      if (record.kind === "object" && record.type === "blob" && record.content !== undefined) {
        return record.content;
      }
      const what = record.kind === "object" ? `a ${record.type}, not a file` : "ambiguous";
      throw new ImagelessError("internal", `git repository ${this.repo}: ${rev}:${paths[i]} is ${what}`);
    });
  }

  /** {@link readFiles} decoded as UTF-8. */
  async readTextFiles(rev: string, paths: readonly string[]): Promise<(string | undefined)[]> {
    return (await this.readFiles(rev, paths)).map((content) => content?.toString("utf8"));
  }

  /**
   * The commit id `rev` (a commit id, `refs/heads/x` …) names, undefined when it names no commit in
   * this repository. Refs are read afresh on every call.
   */
  async resolveCommit(rev: string): Promise<string | undefined> {
    const record = await this.#request("info", `${rev}^{commit}`);
    if (record.kind === "object" && record.type === "commit") return record.id;
    if (record.kind === "missing") return undefined;
    throw new ImagelessError("internal", `git repository ${this.repo}: ${rev} is ambiguous`);
  }

  /**
   * The entries of directory `path` ("" for the top) in commit `rev`, undefined when there is no
   * such directory.
   *
   * @throws {ImagelessError} as {@link readFile}; `internal` when `path` is a file.
   */
  async listTree(rev: string, path = ""): Promise<TreeEntry[] | undefined> {
    const record = await this.#request("contents", `${rev}^{tree}${path === "" ? "" : `:${path}`}`);
    if (record.kind === "missing") {
      if ((await this.resolveCommit(rev)) === undefined) {
        throw new ImagelessError("not-found", `git repository ${this.repo} has no commit ${rev}`);
      }
      return undefined;
    }
    if (record.kind === "object" && record.type === "tree" && record.content !== undefined) {
      return parseTree(record.content, record.id.length === 64 ? 32 : 20);
    }
    throw new ImagelessError("internal", `git repository ${this.repo}: ${rev}:${path} is not a directory`);
  }

  /** True after git failed in a way the reader cannot recover from: use a new reader. */
  get broken(): boolean {
    return this.#failure !== undefined;
  }

  /** Ends git (pending requests fail). Safe to call twice. */
  close(): void {
    const git = this.#git;
    this.#git = undefined;
    if (git === undefined) return;
    git.stdin.end();
    this.#fail(new ImagelessError("internal", `git object reader of ${this.repo} was closed`));
  }

  #request(kind: BatchRequestKind, object: string): Promise<BatchRecord> {
    if (/[\n\r]/.test(object)) {
      return Promise.reject(
        new ImagelessError("invalid-input", `git object name ${JSON.stringify(object)}: contains a newline`),
      );
    }
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const git = this.#start();
    return new Promise<BatchRecord>((resolve, reject) => {
      this.#pending.push({ kind, resolve, reject });
      if (this.#pending.length === 1) setReferenced(git, true);
      git.stdin.write(`${kind} ${object}\n`);
    });
  }

  #start(): ChildProcessWithoutNullStreams {
    if (this.#git !== undefined) return this.#git;
    const git = startGit(["--git-dir", this.repo, "cat-file", "--batch-command"], {
      ...(this.#env === undefined ? {} : { env: this.#env }),
    });
    this.#git = git;
    git.stdout.on("data", (chunk: Buffer) => this.#receive(chunk));
    git.stderr.on("data", (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString("utf8")).slice(-2000);
    });
    git.stdin.on("error", () => {
      // git died; its exit below says why.
    });
    git.on("error", (error) => {
      this.#failTerminally(
        new ImagelessError("failed-precondition", `cannot run git: ${error.message}; install git`, {
          cause: error,
        }),
      );
    });
    git.on("close", (code, signal) => {
      if (this.#git === git) this.#git = undefined;
      if (this.#pending.length === 0) return;
      const line = this.#stderr
        .trim()
        .split("\n")
        .at(-1)
        ?.replace(/^(fatal|error): /, "");
      this.#failTerminally(
        new ImagelessError(
          "internal",
          `git cat-file in ${this.repo} ended (${code ?? signal}): ${line || "no message"}`,
        ),
      );
    });
    setReferenced(git, false);
    return git;
  }

  #receive(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    let at = 0;
    try {
      for (let next = this.#pending[0]; next !== undefined; next = this.#pending[0]) {
        const parsed = parseBatchRecord(this.#buffer, at, next.kind);
        if (parsed === undefined) break;
        this.#pending.shift();
        at = parsed.next;
        // A blob must outlive the buffer it came from being reused: copy what is handed out.
        const record = parsed.record;
        next.resolve(
          record.kind === "object" && record.content !== undefined
            ? { ...record, content: Buffer.from(record.content) }
            : record,
        );
      }
    } catch (error) {
      this.#failTerminally(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    this.#buffer = this.#buffer.subarray(at);
    if (this.#pending.length === 0 && this.#git !== undefined) setReferenced(this.#git, false);
  }

  /** After a failure the stream cannot be re-synchronised: later requests fail with the same error. */
  #failTerminally(error: Error): void {
    this.#failure = error;
    this.#git?.kill("SIGKILL");
    this.#git = undefined;
    this.#fail(error);
  }

  #fail(error: Error): void {
    const pending = this.#pending;
    this.#pending = [];
    this.#buffer = Buffer.alloc(0);
    for (const request of pending) request.reject(error);
  }
}

/**
 * Runs `work` with a reader of `repo` and ends its git afterwards (also on failure).
 *
 * @example
 * const [meta] = await withObjectReader(repo, (r) => r.readTextFiles(commit, ["metadata.json"]));
 */
export async function withObjectReader<T>(
  repo: string,
  work: (reader: ObjectReader) => Promise<T>,
  opts: ObjectReaderOptions = {},
): Promise<T> {
  const reader = new ObjectReader(repo, opts);
  try {
    return await work(reader);
  } finally {
    reader.close();
  }
}

/** Whether git's process and pipes keep Node's event loop alive. */
function setReferenced(git: ChildProcessWithoutNullStreams, referenced: boolean): void {
  for (const handle of [git, git.stdin, git.stdout, git.stderr] as unknown as {
    ref(): void;
    unref(): void;
  }[]) {
    if (referenced) handle.ref();
    else handle.unref();
  }
}
