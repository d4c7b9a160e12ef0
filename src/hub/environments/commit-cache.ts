/**
 * Parsed content read from a floxmeta commit, kept by commit id. A commit's content never changes,
 * so an entry never goes stale; only the branch tip is read from git on each request. Bounded: the
 * least recently used entry goes first. One per hub (passed in, never a module-level singleton).
 *
 * @example
 * const cache = new CommitCache(256);
 * const meta = await cache.get(`${repo}\0${commit}\0meta`, () => readMeta(repo, commit));
 */
export class CommitCache {
  readonly #entries = new Map<string, Promise<unknown>>();
  constructor(readonly capacity: number) {}

  /** The value for `key`, computed by `load` on a miss; a failed load is not kept. */
  get<T>(key: string, load: () => Promise<T>): Promise<T> {
    const known = this.#entries.get(key);
    if (known !== undefined) {
      // Re-inserting moves the key to the end: Map iteration order is insertion order.
      this.#entries.delete(key);
      this.#entries.set(key, known);
      return known as Promise<T>;
    }
    const loading = load();
    this.#entries.set(key, loading);
    loading.catch(() => this.#entries.delete(key));
    while (this.#entries.size > this.capacity) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
    return loading;
  }
}
