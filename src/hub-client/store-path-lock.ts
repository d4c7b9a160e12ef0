import { ImagelessError } from "../errors/imageless-error.js";
import { isStorePath } from "../nix/store-path.js";

/** A `manifest.lock` v1 document as written to a generation. */
export interface LockDocument {
  readonly "lockfile-version": 1;
  readonly manifest: Readonly<Record<string, unknown>>;
  readonly packages: readonly Readonly<Record<string, unknown>>[];
}

const DEFAULT_PRIORITY = 5;

/**
 * Locks a manifest whose packages are all `store-path` entries, without a catalog (pure): one
 * store-path lock entry (`install_id`, `store_path`, `system`, `priority`, as Flox's
 * `lockfile/store_path.rs`) per package per system. The systems are the package's `systems`, else
 * `options.systems`, else `localSystem`. The manifest is embedded as written (kebab-case keys).
 *
 * @param manifest the parsed `manifest.toml` (a TOML table).
 * @param source names the manifest in errors.
 * @throws {ImagelessError} `invalid-input` when a package is a catalog or flake package (those need
 *   a lock made by Flox) or a store path is malformed.
 * @example
 * lockStorePathManifest({ version: 1, install: { hello: { "store-path": "/nix/store/…-hello" } } }, {
 *   localSystem: "x86_64-linux", source: "manifest.toml" });
 */
export function lockStorePathManifest(
  manifest: Readonly<Record<string, unknown>>,
  opts: { localSystem: string; source: string },
): LockDocument {
  const install = tableOf(manifest["install"], `${opts.source}: [install]`);
  const options = tableOf(manifest["options"], `${opts.source}: [options]`);
  const defaultSystems = stringList(options["systems"], `${opts.source}: options.systems`) ?? [
    opts.localSystem,
  ];
  const catalog = Object.entries(install)
    .filter(([, d]) => tableOf(d, `${opts.source}: [install]`)["store-path"] === undefined)
    .map(([id]) => id);
  if (catalog.length > 0) {
    throw new ImagelessError(
      "invalid-input",
      `${opts.source} has catalog or flake packages (${catalog.map((id) => `'${id}'`).join(", ")}) and no manifest.lock: lock it with Flox (flox install, flox edit or flox upgrade) before pushing; only store-path packages are locked here`,
    );
  }
  const packages: Record<string, unknown>[] = [];
  for (const [installId, value] of Object.entries(install)) {
    const where = `${opts.source}: install.${installId}`;
    const descriptor = tableOf(value, where);
    const path = descriptor["store-path"];
    if (typeof path !== "string" || !isStorePath(path)) {
      throw new ImagelessError(
        "invalid-input",
        `${where}.store-path cannot be ${JSON.stringify(path)}: it must be a store path like /nix/store/<hash>-<name>`,
      );
    }
    const priority = descriptor["priority"] ?? DEFAULT_PRIORITY;
    if (typeof priority !== "number" || !Number.isSafeInteger(priority) || priority < 0) {
      throw new ImagelessError(
        "invalid-input",
        `${where}.priority cannot be ${JSON.stringify(priority)}: it must be an integer ≥ 0`,
      );
    }
    const systems = stringList(descriptor["systems"], `${where}.systems`) ?? defaultSystems;
    for (const system of systems)
      packages.push({ install_id: installId, store_path: path, system, priority });
  }
  return { "lockfile-version": 1, manifest, packages };
}

function tableOf(value: unknown, where: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value === "object" && value !== null && !Array.isArray(value))
    return value as Record<string, unknown>;
  throw new ImagelessError("invalid-input", `${where} must be a table`);
}

function stringList(value: unknown, where: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return [...value];
  throw new ImagelessError("invalid-input", `${where} must be a list of strings like ["x86_64-linux"]`);
}
