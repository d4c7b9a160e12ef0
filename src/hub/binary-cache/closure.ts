/**
 * Which environments make a store path readable (pure): a path is readable through an environment
 * when it is in the closure (narinfo references, transitively) of a store path one of the
 * environment's locks lists.
 */

/** References of a path by hash part, or undefined when the cache has no narinfo for it. */
export type ReferencesOf = (hash: string) => readonly string[] | undefined;

/**
 * The closure of `roots` by hash part, roots included (a root without a narinfo yet is kept: it is
 * readable as soon as it is uploaded).
 *
 * @example
 * closureOf(["a"], (h) => ({ a: ["b"], b: [] })[h]); // Set { "a", "b" }
 */
export function closureOf(roots: Iterable<string>, referencesOf: ReferencesOf): Set<string> {
  const seen = new Set<string>();
  const queue = [...roots];
  for (let hash = queue.pop(); hash !== undefined; hash = queue.pop()) {
    if (seen.has(hash)) continue;
    seen.add(hash);
    for (const reference of referencesOf(hash) ?? []) if (!seen.has(reference)) queue.push(reference);
  }
  return seen;
}

/**
 * For every readable path (hash part), the environments (`owner/name`) through which it is readable.
 *
 * @example
 * readersByPath(new Map([["acme/web", new Set(["a"])]]), () => []); // Map { "a" => ["acme/web"] }
 */
export function readersByPath(
  rootsByEnvironment: ReadonlyMap<string, ReadonlySet<string>>,
  referencesOf: ReferencesOf,
): Map<string, string[]> {
  const readers = new Map<string, string[]>();
  for (const [environment, roots] of rootsByEnvironment) {
    for (const hash of closureOf(roots, referencesOf)) {
      const list = readers.get(hash);
      if (list === undefined) readers.set(hash, [environment]);
      else list.push(environment);
    }
  }
  return readers;
}
