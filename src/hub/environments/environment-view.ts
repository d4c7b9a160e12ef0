import type { Lockfile } from "../../environment/lockfile.js";
import type { Manifest } from "../../environment/manifest.js";
import { ImagelessError } from "../../errors/imageless-error.js";
import type { GenerationsMetadata, HistoryEntry } from "../../floxhub/metadata.js";

/** One package of a generation: all systems it is locked for with the same version and path. */
export interface PackageRow {
  readonly installId: string;
  readonly pkgPath?: string;
  readonly storePath?: string;
  readonly version?: string;
  readonly systems: readonly string[];
  readonly priority: number;
}

/** One generation in the API's `generations` answer; times are Unix seconds as Flox stores them. */
export interface GenerationRow {
  readonly generation: number;
  readonly created?: number;
  /** When it stopped being live; absent for the live generation and ones never live since created. */
  readonly lastLive?: number;
  readonly live: boolean;
  readonly description?: string;
  readonly author?: string;
}

/**
 * One history entry in the API's `history` answer: the parsed entry without the stored original and
 * the targets (which the summary, always present, already names).
 */
export type HistoryRow = Omit<HistoryEntry, "raw" | "targets">;

/** One generation's content as the API shows it (and as two generations are compared). */
export interface GenerationView {
  readonly packages: readonly PackageRow[];
  readonly vars: Readonly<Record<string, string>>;
  readonly hook: { readonly onActivate?: string };
  readonly profile: Readonly<Record<string, string | undefined>>;
}

const DEFAULT_PRIORITY = 5;

/** A generation's manifest and lock as the API shows them (pure). */
export function generationView(content: { manifest: Manifest; lock?: Lockfile | undefined }): GenerationView {
  return {
    packages: packageRows(content.lock, content.manifest),
    vars: content.manifest.vars,
    hook: content.manifest.hook,
    profile: { ...content.manifest.profile },
  };
}

/**
 * The packages of a generation (pure): from the lock when there is one (versions and store paths
 * per system), else from the manifest's `[install]` as written.
 */
export function packageRows(lock: Lockfile | undefined, manifest: Manifest): PackageRow[] {
  if (lock === undefined) {
    return Object.entries(manifest.install).map(([installId, d]) => {
      const pkgPath = pkgPathOf(d);
      const storePath = field(d, "store-path");
      const version = field(d, "version");
      const systems = stringList(d, "systems") ?? manifest.options.systems ?? [];
      const priority = field(d, "priority");
      return {
        installId,
        ...(pkgPath === undefined ? {} : { pkgPath }),
        ...(typeof storePath === "string" ? { storePath } : {}),
        ...(typeof version === "string" ? { version } : {}),
        systems: [...systems],
        priority: typeof priority === "number" ? priority : DEFAULT_PRIORITY,
      };
    });
  }
  const rows = new Map<string, { row: Omit<PackageRow, "systems">; systems: string[] }>();
  for (const p of lock.packages) {
    const version = p.kind === "store-path" ? undefined : p.version;
    const storePath = p.kind === "store-path" ? p.storePath : undefined;
    const key = JSON.stringify([p.installId, version ?? null, storePath ?? null]);
    const known = rows.get(key);
    if (known !== undefined) {
      known.systems.push(p.system);
      continue;
    }
    const pkgPath = pkgPathOf(manifest.install[p.installId]);
    rows.set(key, {
      row: {
        installId: p.installId,
        ...(pkgPath === undefined ? {} : { pkgPath }),
        ...(storePath === undefined ? {} : { storePath }),
        ...(version === undefined ? {} : { version }),
        priority: p.priority,
      },
      systems: [p.system],
    });
  }
  return [...rows.values()].map(({ row, systems }) => ({ ...row, systems }));
}

/** The generations with when they were made and live, by whom and why (pure, like `flox generations list`). */
export function generationRows(meta: GenerationsMetadata): GenerationRow[] {
  return meta.generations.map((generation) => {
    const made = meta.history.find(
      (e) => e.currentGeneration === generation && e.kind !== "switch_generation",
    );
    const live = meta.liveGeneration === generation;
    const lastLive = live ? undefined : stoppedBeingLive(meta.history, generation);
    return {
      generation,
      ...(made === undefined
        ? {}
        : { created: made.timestamp, description: describeChange(made), author: made.author }),
      ...(lastLive === undefined ? {} : { lastLive }),
      live,
    };
  });
}

/** The history as the API shows it (pure), oldest first; `summary` is derived when Flox left it out. */
export function historyRows(meta: GenerationsMetadata): HistoryRow[] {
  return meta.history.map(historyRow);
}

/** One history entry as the API shows it (pure). */
export function historyRow(e: HistoryEntry): HistoryRow {
  return {
    kind: e.kind,
    author: e.author,
    hostname: e.hostname,
    timestamp: e.timestamp,
    currentGeneration: e.currentGeneration,
    ...(e.previousGeneration === undefined ? {} : { previousGeneration: e.previousGeneration }),
    summary: describeChange(e),
    ...(e.command === undefined ? {} : { command: e.command }),
  };
}

/** A one-line description of a change (pure): its summary, else one made from its kind and targets. */
export function describeChange(e: HistoryEntry): string {
  if (e.summary !== undefined) return e.summary;
  const targets = (e.targets ?? []).map((t) => `'${t}'`).join(", ");
  switch (e.kind) {
    case "initialize":
      return "created environment";
    case "import":
      return "imported environment";
    case "install":
      return `installed ${targets || "packages"}`;
    case "uninstall":
      return `uninstalled ${targets || "packages"}`;
    case "upgrade":
    case "include_upgrade":
      return `upgraded ${targets || "packages"}`;
    case "edit":
      return "edited the manifest";
    case "switch_generation":
      return `changed current generation ${e.previousGeneration ?? "?"} -> ${e.currentGeneration}`;
    default:
      return e.kind;
  }
}

/**
 * The generation a rollback makes live (pure): the one live before the current one, as Flox's
 * `generations rollback` does (not necessarily N-1).
 *
 * @throws {ImagelessError} `failed-precondition` when no other generation was ever live.
 */
export function rollbackTarget(meta: GenerationsMetadata, source: string): number {
  const live = meta.liveGeneration;
  const last = meta.history.at(-1);
  if (last?.previousGeneration !== undefined && last.previousGeneration !== live)
    return last.previousGeneration;
  for (let i = meta.history.length - 1; i >= 0; i--) {
    const g = meta.history[i]?.currentGeneration;
    if (g !== undefined && g !== live) return g;
  }
  throw new ImagelessError("failed-precondition", `${source}: no earlier live generation to roll back to`);
}

/** When `generation` last stopped being live: the time of the entry that replaced it (pure). */
function stoppedBeingLive(history: readonly HistoryEntry[], generation: number): number | undefined {
  for (let i = history.length - 1; i > 0; i--) {
    if (history[i - 1]?.currentGeneration === generation && history[i]?.currentGeneration !== generation) {
      return history[i]?.timestamp;
    }
  }
  return undefined;
}

function pkgPathOf(descriptor: unknown): string | undefined {
  const p = field(descriptor, "pkg-path");
  if (typeof p === "string") return p;
  return Array.isArray(p) && p.every((s) => typeof s === "string") ? p.join(".") : undefined;
}

function stringList(descriptor: unknown, key: string): readonly string[] | undefined {
  const v = field(descriptor, key);
  return Array.isArray(v) && v.every((s) => typeof s === "string") ? v : undefined;
}

function field(descriptor: unknown, key: string): unknown {
  return typeof descriptor === "object" && descriptor !== null
    ? (descriptor as Record<string, unknown>)[key]
    : undefined;
}
