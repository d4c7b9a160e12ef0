import { ImagelessError } from "../errors/imageless-error.js";
import { parseJson } from "../errors/parse-json.js";
import { isStorePath, type StorePath } from "../nix/store-path.js";
import { type Manifest, manifestFromObject } from "./manifest.js";

/** A package from the Flox catalog (nixpkgs or a custom catalog), one system. */
export interface CatalogPackage {
  readonly kind: "catalog";
  readonly installId: string;
  readonly system: string;
  readonly group: string;
  readonly priority: number;
  readonly pname?: string;
  readonly version?: string;
  /** Every output the catalog locked, by name. */
  readonly outputs: Readonly<Record<string, StorePath>>;
  /** The package's default outputs (`outputs_to_install`), duplicates removed, absent when null. */
  readonly outputsToInstall?: readonly string[];
}

/** A package locked from a flake reference (not supported for realisation yet). */
export interface FlakePackage {
  readonly kind: "flake";
  readonly installId: string;
  readonly system: string;
  readonly priority: number;
  readonly lockedUrl: string;
  readonly attrPath?: string;
  readonly pname?: string;
  readonly version?: string;
  readonly outputs: Readonly<Record<string, StorePath>>;
  readonly outputsToInstall?: readonly string[];
}

/** A package given as a bare store path in the manifest. */
export interface StorePathPackage {
  readonly kind: "store-path";
  readonly installId: string;
  readonly system: string;
  readonly priority: number;
  readonly storePath: StorePath;
}

export type LockedPackage = CatalogPackage | FlakePackage | StorePathPackage;

/** A validated `manifest.lock` (`lockfile-version` 1). */
export interface Lockfile {
  readonly lockfileVersion: 1;
  /** The embedded manifest as parsed JSON; read it with `manifestFromLock`. */
  readonly manifest: Readonly<Record<string, unknown>>;
  /** One entry per package per system, in file order. */
  readonly packages: readonly LockedPackage[];
  /** Names the input in errors (e.g. `manifest.lock of 'acme/web' generation 3`). */
  readonly source: string;
}

/** A package to link into the environment on one system. */
export interface SelectedPackage {
  readonly installId: string;
  readonly kind: "catalog" | "store-path";
  /** Lower wins a file conflict; Flox's default is 5. */
  readonly priority: number;
  readonly group: string;
  readonly version?: string;
  readonly pname?: string;
  /**
   * The outputs to link, as Flox's `builder.pl` selects them: for a `schema-version` manifest the
   * descriptor's `outputs` ("all" or a list), else `outputs_to_install`, else none; for a `version = 1`
   * manifest every output except `stubs`.
   */
  readonly outputs: Readonly<Record<string, StorePath>>;
  /**
   * Link priority of the outputs whose priority is not `priority`: with a `version = 1` manifest the
   * outputs outside `outputs_to_install` get `1000 × priority + n` (n counting up over the lock), so
   * they never collide and lose to every installed package.
   */
  readonly outputPriorities?: Readonly<Record<string, number>>;
  /** Every output of the package (all of them must be realisable; only `outputs` are linked). */
  readonly allOutputs: Readonly<Record<string, StorePath>>;
}

const DEFAULT_PRIORITY = 5;
const DEFAULT_GROUP = "toplevel";

/**
 * Parses and validates a `manifest.lock`.
 *
 * @param source names the input in errors.
 * @throws {ImagelessError} `invalid-input` for bad JSON or a malformed entry; `unsupported` for a
 *   `lockfile-version` other than 1.
 * @example
 * const lock = parseLockfile(readFileSync("manifest.lock", "utf8"), "manifest.lock");
 */
export function parseLockfile(text: string, source: string): Lockfile {
  const data = parseJson(text, source);
  const top = object(data, source, "the lock");
  const version = top["lockfile-version"];
  if (version !== 1) {
    throw new ImagelessError(
      version === undefined ? "invalid-input" : "unsupported",
      `${source}: lockfile-version ${JSON.stringify(version ?? null)} is not supported: this imageless reads lockfile-version 1; lock the environment with a Flox CLI that writes version 1`,
    );
  }
  const manifest = object(top["manifest"], source, "manifest");
  const rawPackages = top["packages"];
  if (!Array.isArray(rawPackages)) {
    throw new ImagelessError("invalid-input", `${source}: packages must be a list`);
  }
  const packages = rawPackages.map((entry, index) => parsePackage(entry, `${source}: packages[${index}]`));
  return Object.freeze({ lockfileVersion: 1, manifest, packages: Object.freeze(packages), source });
}

/**
 * The packages of `lock` for `system`, with the outputs to link decided (pure).
 *
 * @throws {ImagelessError} `unsupported` when the lock is not for `system`, or a package is a flake or
 *   from a custom catalog; `invalid-input` when a requested output is not in the lock.
 * @example
 * for (const p of selectPackages(lock, "x86_64-linux")) console.log(p.installId, Object.keys(p.outputs));
 */
export function selectPackages(lock: Lockfile, system: string): SelectedPackage[] {
  const manifest = manifestFromLock(lock);
  const systems = manifest.options.systems;
  if (systems !== undefined && !systems.includes(system)) {
    throw new ImagelessError(
      "unsupported",
      `${lock.source}: the environment is not locked for ${system}: it is locked for ${systems.join(", ") || "no system"}; add ${system} to options.systems and lock it again`,
    );
  }
  const selected: SelectedPackage[] = [];
  const seen = new Set<string>();
  const v1 = { version1: manifest.schemaVersion === "1", counter: 0 };
  for (const pkg of lock.packages) {
    if (pkg.system !== system) continue;
    if (seen.has(pkg.installId)) {
      throw new ImagelessError(
        "invalid-input",
        `${lock.source}: package '${pkg.installId}' is locked twice for ${system}`,
      );
    }
    seen.add(pkg.installId);
    selected.push(selectPackage(pkg, manifest.install[pkg.installId], lock.source, v1));
  }
  for (const [installId, descriptor] of Object.entries(manifest.install)) {
    if (seen.has(installId) || !wantedOn(descriptor, system)) continue;
    const elsewhere = lock.packages.filter((p) => p.installId === installId).map((p) => p.system);
    // A package the manifest asks for but the lock has only for other systems would silently be
    // missing from the container; Flox fails the same way when a package is unavailable.
    if (elsewhere.length > 0) {
      throw new ImagelessError(
        "unsupported",
        `${lock.source}: package '${installId}' is not locked for ${system}: it is locked for ${elsewhere.join(", ")}`,
      );
    }
  }
  return selected;
}

function selectPackage(
  pkg: LockedPackage,
  descriptor: unknown,
  source: string,
  v1: { readonly version1: boolean; counter: number },
): SelectedPackage {
  if (pkg.kind === "flake") {
    const ref = stringField(descriptor, "flake") ?? `${pkg.lockedUrl}#${pkg.attrPath ?? ""}`;
    throw new ImagelessError(
      "unsupported",
      `${source}: package '${pkg.installId}' is a flake (${ref}): flake packages are not supported yet; lock it from the catalog or as a store-path`,
    );
  }
  if (pkg.kind === "store-path") {
    const outputs = Object.freeze({ out: pkg.storePath });
    return {
      installId: pkg.installId,
      kind: "store-path",
      priority: pkg.priority,
      group: DEFAULT_GROUP,
      outputs,
      allOutputs: outputs,
    };
  }
  const pkgPath = pkgPathOf(descriptor);
  if (pkgPath !== undefined && isCustomCatalogPath(pkgPath)) {
    throw new ImagelessError(
      "unsupported",
      `${source}: package '${pkg.installId}' comes from the custom catalog '${pkgPath}': custom-catalog packages are not supported yet; lock it from the base catalog or as a store-path`,
    );
  }
  const { names, outputPriorities } = v1.version1
    ? version1Outputs(pkg, v1)
    : { names: requestedOutputs(outputsOf(descriptor), pkg), outputPriorities: undefined };
  const outputs: Record<string, StorePath> = {};
  for (const name of names) {
    const path = pkg.outputs[name];
    if (path === undefined) {
      throw new ImagelessError(
        "invalid-input",
        `${source}: package '${pkg.installId}' has no output '${name}': its outputs are ${Object.keys(pkg.outputs).join(", ")}`,
      );
    }
    outputs[name] = path;
  }
  return {
    installId: pkg.installId,
    kind: "catalog",
    priority: pkg.priority,
    group: pkg.group,
    ...(pkg.version === undefined ? {} : { version: pkg.version }),
    ...(pkg.pname === undefined ? {} : { pname: pkg.pname }),
    outputs: Object.freeze(outputs),
    ...(outputPriorities === undefined ? {} : { outputPriorities: Object.freeze(outputPriorities) }),
    allOutputs: pkg.outputs,
  };
}

/**
 * `schema-version` manifests (builder.pl `getSpecifiedOutputs`): the descriptor's `outputs`, else
 * the catalog's `outputs_to_install`, else nothing at all.
 */
function requestedOutputs(
  requested: "all" | readonly string[] | undefined,
  pkg: CatalogPackage | FlakePackage,
): readonly string[] {
  if (requested === "all") return Object.keys(pkg.outputs);
  return requested ?? pkg.outputsToInstall ?? [];
}

// Output names are visited sorted: builder.pl walks a Perl hash, whose order is not defined, so this
// fixes one of the orders Flox may use.
function version1Outputs(
  pkg: CatalogPackage | FlakePackage,
  v1: { counter: number },
): { names: string[]; outputPriorities: Record<string, number> | undefined } {
  const names = Object.keys(pkg.outputs)
    .filter((name) => name !== "stubs")
    .sort();
  const toInstall = new Set(pkg.outputsToInstall ?? []);
  const outputPriorities: Record<string, number> = {};
  for (const name of names) {
    if (!toInstall.has(name)) outputPriorities[name] = 1000 * pkg.priority + v1.counter++;
  }
  return { names, outputPriorities: Object.keys(outputPriorities).length > 0 ? outputPriorities : undefined };
}

/**
 * True for a `pkg-path` of a custom catalog: its first dotted segment names a catalog (`flox/quotes`,
 * research §3), which a base-catalog attribute path never does.
 */
export function isCustomCatalogPath(pkgPath: string | readonly string[]): boolean {
  const first = typeof pkgPath === "string" ? pkgPath.split(".")[0] : pkgPath[0];
  return (first ?? "").includes("/") && !(first ?? "").includes(".");
}

function wantedOn(descriptor: unknown, system: string): boolean {
  if (typeof descriptor !== "object" || descriptor === null) return true;
  const systems = (descriptor as Record<string, unknown>)["systems"];
  return !Array.isArray(systems) || systems.includes(system);
}

function pkgPathOf(descriptor: unknown): string | readonly string[] | undefined {
  if (typeof descriptor !== "object" || descriptor === null) return undefined;
  const value = (descriptor as Record<string, unknown>)["pkg-path"];
  if (typeof value === "string") return value;
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value;
  return undefined;
}

function outputsOf(descriptor: unknown): "all" | readonly string[] | undefined {
  if (typeof descriptor !== "object" || descriptor === null) return undefined;
  const value = (descriptor as Record<string, unknown>)["outputs"];
  if (value === "all") return "all";
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value;
  return undefined;
}

function stringField(value: unknown, key: string): string | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const v = (value as Record<string, unknown>)[key];
  return typeof v === "string" ? v : undefined;
}

function parsePackage(entry: unknown, where: string): LockedPackage {
  const o = object(entry, where, "a package entry");
  const installId = requiredString(o, "install_id", where);
  const system = requiredString(o, "system", where);
  const priority = readPriority(o["priority"], where);
  if ("store_path" in o) {
    return Object.freeze({
      kind: "store-path",
      installId,
      system,
      priority,
      storePath: storePath(o["store_path"], `${where}.store_path`),
    });
  }
  if ("locked-url" in o) {
    return Object.freeze({
      kind: "flake",
      installId,
      system,
      priority,
      lockedUrl: requiredString(o, "locked-url", where),
      ...optionalStrings(o, where, {
        attrPath: "locked-flake-attr-path",
        pname: "pname",
        version: "version",
      }),
      outputs: readOutputs(o["outputs"], where),
      ...optionalList(o["outputs-to-install"], `${where}.outputs-to-install`),
    });
  }
  if (!("outputs" in o)) {
    throw new ImagelessError(
      "invalid-input",
      `${where}: not a catalog, flake or store-path entry: it has none of "outputs", "locked-url", "store_path"`,
    );
  }
  const group = o["group"] === undefined ? DEFAULT_GROUP : requiredString(o, "group", where);
  return Object.freeze({
    kind: "catalog",
    installId,
    system,
    group,
    priority,
    ...optionalStrings(o, where, { pname: "pname", version: "version" }),
    outputs: readOutputs(o["outputs"], where),
    ...optionalList(o["outputs_to_install"], `${where}.outputs_to_install`),
  });
}

function readOutputs(value: unknown, where: string): Readonly<Record<string, StorePath>> {
  const outputs: Record<string, StorePath> = {};
  for (const [name, path] of Object.entries(object(value, where, "outputs"))) {
    outputs[name] = storePath(path, `${where}.outputs.${name}`);
  }
  if (Object.keys(outputs).length === 0)
    throw new ImagelessError("invalid-input", `${where}: outputs is empty`);
  return Object.freeze(outputs);
}

function optionalList(value: unknown, where: string): { outputsToInstall?: readonly string[] } {
  if (value === undefined || value === null) return {};
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) {
    // Flox's catalog repeats names (["man","out","out"]); the set is what matters.
    return { outputsToInstall: Object.freeze([...new Set(value)]) };
  }
  throw new ImagelessError("invalid-input", `${where} must be a list of output names`);
}

function optionalStrings<K extends string>(
  o: Record<string, unknown>,
  where: string,
  keys: Record<K, string>,
): { [P in K]?: string } {
  const out: { [P in K]?: string } = {};
  for (const [field, key] of Object.entries(keys) as [K, string][]) {
    const v = o[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== "string") throw new ImagelessError("invalid-input", `${where}.${key} must be a string`);
    out[field] = v;
  }
  return out;
}

function readPriority(value: unknown, where: string): number {
  if (value === undefined || value === null) return DEFAULT_PRIORITY;
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return value;
  throw new ImagelessError(
    "invalid-input",
    `${where}.priority cannot be ${JSON.stringify(value)}: it must be an integer ≥ 0`,
  );
}

function storePath(value: unknown, where: string): StorePath {
  if (typeof value === "string" && isStorePath(value)) return value;
  throw new ImagelessError(
    "invalid-input",
    `${where} cannot be ${JSON.stringify(value)}: it must be a store path like /nix/store/<hash>-<name>`,
  );
}

function requiredString(o: Record<string, unknown>, key: string, where: string): string {
  const v = o[key];
  if (typeof v === "string" && v !== "") return v;
  throw new ImagelessError("invalid-input", `${where}.${key} must be a non-empty string`);
}

function object(value: unknown, where: string, what: string): Record<string, unknown> {
  if (typeof value === "object" && value !== null && !Array.isArray(value))
    return value as Record<string, unknown>;
  throw new ImagelessError("invalid-input", `${where}: ${what} must be a JSON object`);
}

/**
 * Reads the manifest Flox embeds in a lock (`manifest` key, JSON, kebab-case), with the same rules
 * as `parseManifestToml`.
 *
 * @throws {ImagelessError} `invalid-input` when the embedded manifest has a field of the wrong type.
 */
export function manifestFromLock(lock: Lockfile): Manifest {
  return manifestFromObject(lock.manifest, `manifest in ${lock.source}`);
}
