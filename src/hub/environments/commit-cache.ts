/**
 * Parsed content read from a floxmeta commit, kept by commit id. A commit's content never changes,
 * so an entry never goes stale; only the branch tip is read from git on each request. Bounded by
 * entries and by the approximate bytes they hold (pushed files are size-limited, but 512 large ones
 * would still be a lot of memory): the least recently used entry goes first. One per hub (passed
 * in, never a module-level singleton).
 *
 * @example
 * const cache = new CommitCache(256, { maxBytes: 64 << 20 });
 * const meta = await cache.get(`${repo}\0${commit}\0meta`, () => readMeta(repo, commit), (m) => m.text.length);
 */
export class CommitCache {
  readonly #entries = new Map<string, { value: Promise<unknown>; bytes: number }>();
  readonly #maxBytes: number;
  #bytes = 0;

  constructor(
    readonly capacity: number,
    opts: { readonly maxBytes?: number } = {},
  ) {
    this.#maxBytes = opts.maxBytes ?? Number.POSITIVE_INFINITY;
  }

  /**
   * The value for `key`, computed by `load` on a miss; a failed load is not kept. `weigh` estimates
   * the bytes a loaded value holds (0 when omitted).
   */
  get<T>(key: string, load: () => Promise<T>, weigh?: (value: T) => number): Promise<T> {
    const known = this.#entries.get(key);
    if (known !== undefined) {
      // Re-inserting moves the key to the end: Map iteration order is insertion order.
      this.#entries.delete(key);
      this.#entries.set(key, known);
      return known.value as Promise<T>;
    }
    const loading = load();
    const entry = { value: loading as Promise<unknown>, bytes: 0 };
    this.#entries.set(key, entry);
    loading.then(
      (value) => {
        if (this.#entries.get(key) !== entry) return;
        entry.bytes = weigh?.(value) ?? 0;
        this.#bytes += entry.bytes;
        this.#evict();
      },
      () => this.#remove(key, entry),
    );
    this.#evict();
    return loading;
  }

  #evict(): void {
    while (this.#entries.size > this.capacity || (this.#bytes > this.#maxBytes && this.#entries.size > 1)) {
      const oldest = this.#entries.entries().next().value;
      if (oldest === undefined) break;
      this.#remove(oldest[0], oldest[1]);
    }
  }

  #remove(key: string, entry: { bytes: number }): void {
    if (this.#entries.get(key) !== entry) return;
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
  }
}
