/**
 * `imageless hub gc`: removes what the cache holds for nobody. A path of `<owner>`'s namespace is
 * kept while it is in the closure of a store path that a lock of any generation of one of `<owner>`'s
 * environments lists; a NAR file is kept while a kept narinfo (any namespace) names it. Anything
 * younger than the grace period is kept too, so an upload on its way (NARs first, narinfos next, the
 * environment's push last) is never collected. A running hub notices removed narinfos by the
 * namespace directory's change and reloads that namespace.
 */
import { readdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../../log/logger.js";
import { listBranches, repoPath } from "../git/git-repos.js";
import {
  cacheDir,
  listNamespaces,
  listNars,
  NARINFO_FILE,
  readNamespace,
  removeNar,
  removeNarInfo,
} from "./cache-files.js";
import { closureOf } from "./closure.js";
import { readLockedPaths } from "./locked-paths.js";
import { hashPart, parseNarInfo } from "./narinfo.js";

/** One namespace as gc sees it. */
export interface GcNamespace {
  readonly owner: string;
  /** Hash parts the owner's locks list. */
  readonly roots: ReadonlySet<string>;
  readonly paths: readonly {
    readonly hash: string;
    readonly references: readonly string[];
    readonly url: string;
    readonly mtimeMs: number;
  }[];
}

/** What gc removes. */
export interface GcPlan {
  readonly narInfos: readonly { readonly owner: string; readonly hash: string }[];
  readonly nars: readonly { readonly file: string; readonly size: number }[];
}

/**
 * Decides what to remove (pure).
 *
 * @example
 * planGc([{ owner: "acme", roots: new Set(), paths: [{ hash: "a", references: [], url: "nar/x.nar", mtimeMs: 0 }] }],
 *   [{ file: "x.nar", size: 3, mtimeMs: 0 }], { now: 10, graceMs: 5 });
 * // { narInfos: [{ owner: "acme", hash: "a" }], nars: [{ file: "x.nar", size: 3 }] }
 */
export function planGc(
  namespaces: readonly GcNamespace[],
  nars: readonly { readonly file: string; readonly size: number; readonly mtimeMs: number }[],
  opts: { readonly now: number; readonly graceMs: number },
): GcPlan {
  const young = (mtimeMs: number) => opts.now - mtimeMs < opts.graceMs;
  const narInfos: { owner: string; hash: string }[] = [];
  const namedNars = new Set<string>();
  for (const namespace of namespaces) {
    const references = new Map(namespace.paths.map((p) => [p.hash, p.references]));
    const live = closureOf(namespace.roots, (hash) => references.get(hash));
    for (const path of namespace.paths) {
      if (live.has(path.hash) || young(path.mtimeMs)) namedNars.add(path.url.slice("nar/".length));
      else narInfos.push({ owner: namespace.owner, hash: path.hash });
    }
  }
  const removable = nars.filter(({ file, mtimeMs }) => !namedNars.has(file) && !young(mtimeMs));
  return { narInfos, nars: removable.map(({ file, size }) => ({ file, size })) };
}

/** What {@link collectCache} removed. */
export interface GcResult extends GcPlan {
  /** Narinfos of the un-namespaced cache of earlier versions (never verified; nothing serves them). */
  readonly legacy: number;
}

/**
 * Collects the cache of the hub data directory `dataDir`.
 *
 * @example
 * const result = await collectCache(dataDir, { graceMs: 24 * 3600_000, now: Date.now(), log });
 */
export async function collectCache(
  dataDir: string,
  opts: { readonly graceMs: number; readonly now: number; readonly log: Logger },
): Promise<GcResult> {
  const namespaces: GcNamespace[] = [];
  for (const owner of await listNamespaces(dataDir)) {
    const roots = new Set<string>();
    for (const [name, tip] of await listBranches(dataDir, owner)) {
      const listed = await readLockedPaths(repoPath(dataDir, owner), tip, {
        environment: `${owner}/${name}`,
        log: opts.log,
      });
      for (const hash of listed) roots.add(hash);
    }
    const paths = [];
    for (const { hash, text, mtimeMs } of await readNamespace(dataDir, owner)) {
      try {
        const info = parseNarInfo(text, `${owner}/${hash}.narinfo`);
        paths.push({ hash, references: info.references.map(hashPart), url: info.url, mtimeMs });
      } catch {
        // The hub wrote it; one it cannot read serves nobody: collect it.
        paths.push({ hash, references: [], url: "nar/", mtimeMs: 0 });
      }
    }
    namespaces.push({ owner, roots, paths });
  }
  const plan = planGc(namespaces, await listNars(dataDir), opts);
  // Narinfos first: a NAR is removed only once nothing can name it.
  for (const { owner, hash } of plan.narInfos) await removeNarInfo(dataDir, owner, hash);
  for (const { file } of plan.nars) await removeNar(dataDir, file);
  let legacy = 0;
  for (const name of await readdir(cacheDir(dataDir)).catch(() => [] as string[])) {
    if (!NARINFO_FILE.test(name)) continue;
    await unlink(join(cacheDir(dataDir), name)).catch(() => undefined);
    legacy++;
  }
  opts.log.info("hub.cache.gc", { narInfos: plan.narInfos.length, nars: plan.nars.length, legacy });
  return { ...plan, legacy };
}
