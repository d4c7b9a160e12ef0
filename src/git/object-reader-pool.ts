/**
 * Object readers kept per repository for a long-lived process (the hub): a request reads through the
 * repository's running `git cat-file` instead of starting one. A reader idle for `idleMs` is ended,
 * so a hub with many owners does not keep a git process per repository forever.
 */
import { ObjectReader, withObjectReader } from "./object-reader.js";

export class ObjectReaderPool {
  readonly #idleMs: number;
  readonly #readers = new Map<string, { reader: ObjectReader; timer: NodeJS.Timeout }>();

  constructor(opts: { readonly idleMs?: number } = {}) {
    this.#idleMs = opts.idleMs ?? 30_000;
  }

  /**
   * The reader of `repo`, started if needed (a broken one is replaced).
   *
   * @example
   * const [meta] = await pool.reader(repo).readTextFiles(commit, ["metadata.json"]);
   */
  reader(repo: string): ObjectReader {
    const known = this.#readers.get(repo);
    if (known !== undefined && !known.reader.broken) {
      known.timer.refresh();
      return known.reader;
    }
    if (known !== undefined) this.#drop(repo);
    const reader = new ObjectReader(repo);
    const timer = setTimeout(() => this.#drop(repo), this.#idleMs);
    timer.unref(); // an idle reader never keeps the process alive
    this.#readers.set(repo, { reader, timer });
    return reader;
  }

  /** Ends every reader's git. */
  closeAll(): void {
    for (const repo of [...this.#readers.keys()]) this.#drop(repo);
  }

  #drop(repo: string): void {
    const known = this.#readers.get(repo);
    if (known === undefined) return;
    clearTimeout(known.timer);
    known.reader.close();
    this.#readers.delete(repo);
  }
}

/** Runs `work` with `pool`'s reader of `repo`, or, without a pool, a reader ended afterwards. */
export async function useObjectReader<T>(
  pool: ObjectReaderPool | undefined,
  repo: string,
  work: (reader: ObjectReader) => Promise<T>,
): Promise<T> {
  return pool === undefined ? await withObjectReader(repo, work) : await work(pool.reader(repo));
}
