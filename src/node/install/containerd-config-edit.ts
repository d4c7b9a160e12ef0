import { parse } from "smol-toml";
import { ImagelessError } from "../../errors/imageless-error.js";
import { FLOX_ANNOTATION_GLOB } from "../../pod/annotations.js";

/**
 * How containerd's config file adds the `flox` runtime handler, as TEXT edits: every other line and
 * comment stays byte for byte, so an operator's diff shows only our block, and removing the block
 * gives the file back exactly. All functions here are pure.
 *
 * The block is appended at the end of the file (TOML lets a table be defined after its parents and
 * siblings; containerd's go-toml reads it the same) between two marker comments, so a later install
 * replaces it in place and uninstall finds exactly what was added.
 */

/** The runtime handler name (the RuntimeClass `handler`, the TOML key under `runtimes`). */
export const FLOX_HANDLER = "flox";

/**
 * Config schema of the CRI runtime tables: `2` for containerd 1.6/1.7 (`version = 2`, also read by
 * 2.x, which migrates it), `3` for containerd 2.x (`version = 3`, where the runtime plugin moved).
 */
export type ConfigSchema = 2 | 3;

/** The plugin whose `containerd.runtimes.<handler>` tables CRI reads, by schema. */
export function criRuntimePlugin(schema: ConfigSchema): string {
  return schema === 2 ? "io.containerd.grpc.v1.cri" : "io.containerd.cri.v1.runtime";
}

/** A TOML value we copy from the default runtime's options (scalars and flat arrays only). */
export type OptionValue = string | number | boolean | bigint | readonly (string | number | boolean)[];

/** What the flox runtime block holds. */
export interface FloxRuntime {
  readonly schema: ConfigSchema;
  /** `options.BinaryName`: the installed wrapper, a host path (`/opt/imageless/bin/imageless-runc`). */
  readonly binaryName: string;
  /**
   * The default runtime's options (cgroup driver, runc `Root` …) without its `BinaryName`: a flox
   * container must be placed in cgroups exactly like its pod's other containers.
   */
  readonly inheritedOptions: Readonly<Record<string, OptionValue>>;
}

const BEGIN =
  "# imageless: the flox runtime handler (added by `imageless node install`; `imageless node uninstall` removes it)";
const END = "# imageless: end of the flox runtime handler";

/**
 * The block that registers the flox handler: runc shim, `flox.dev/*` annotations passed through to
 * the OCI spec, the wrapper as runc, the default runtime's other options kept.
 *
 * @example
 * renderFloxRuntime({ schema: 2, binaryName: "/opt/imageless/bin/imageless-runc", inheritedOptions: { SystemdCgroup: true } });
 */
export function renderFloxRuntime(runtime: FloxRuntime): string {
  const table = `plugins."${criRuntimePlugin(runtime.schema)}".containerd.runtimes.${FLOX_HANDLER}`;
  const glob = renderValue([FLOX_ANNOTATION_GLOB]);
  const options = Object.entries(runtime.inheritedOptions)
    .filter(([key]) => key !== "BinaryName")
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => `    ${renderKey(key)} = ${renderValue(value)}`);
  return [
    BEGIN,
    `[${table}]`,
    '  runtime_type = "io.containerd.runc.v2"',
    `  pod_annotations = ${glob}`,
    `  container_annotations = ${glob}`,
    "",
    `  [${table}.options]`,
    `    BinaryName = ${renderValue(runtime.binaryName)}`,
    ...options,
    END,
    "",
  ].join("\n");
}

/** Where our block sits in `text`, or undefined when there is none. */
function findBlock(text: string): { start: number; end: number } | undefined {
  let start = 0;
  if (!text.startsWith(`${BEGIN}\n`)) {
    const at = text.indexOf(`\n${BEGIN}\n`);
    if (at < 0) return undefined;
    start = at + 1;
  }
  const endAt = text.indexOf(`\n${END}`, start);
  if (endAt < 0) {
    throw new ImagelessError(
      "invalid-input",
      `containerd config: the imageless block starts but its end line "${END}" is missing: restore the file from its config.toml.bak.N backup`,
    );
  }
  let end = endAt + 1 + END.length;
  if (text[end] === "\n") end += 1;
  return { start, end };
}

/** True when `text` holds the block {@link addFloxRuntime} writes. */
export function hasFloxBlock(text: string): boolean {
  return findBlock(text) !== undefined;
}

// A `runtimes.flox` table (any quoting) that is not ours, e.g. from Flox's own installer.
const FOREIGN_FLOX_TABLE =
  /^[ \t]*\[[ \t]*plugins[ \t]*\.[ \t]*["']?io\.containerd\.(?:grpc\.v1\.cri|cri\.v1\.runtime)["']?[ \t]*\.[ \t]*containerd[ \t]*\.[ \t]*runtimes[ \t]*\.[ \t]*["']?flox["']?[ \t]*[\].]/m;

/**
 * Adds the flox runtime to a containerd config (or a k3s `config.toml.tmpl`): appends the block, or
 * replaces ours in place when it is already there (so running install twice changes nothing, and a
 * new build's block replaces the old one). Exactly one newline goes before an appended block, so
 * {@link removeFloxRuntime} gives `text` back byte for byte.
 *
 * @throws {ImagelessError} `failed-precondition` when the file already defines a `flox` runtime that
 * imageless did not write
 */
export function addFloxRuntime(text: string, runtime: FloxRuntime, source: string): string {
  const block = renderFloxRuntime(runtime);
  const existing = findBlock(text);
  if (existing !== undefined) {
    return text.slice(0, existing.start) + block + text.slice(existing.end);
  }
  if (FOREIGN_FLOX_TABLE.test(text)) {
    throw new ImagelessError(
      "failed-precondition",
      `containerd config ${source}: it already defines a "${FLOX_HANDLER}" runtime that imageless did not write: remove that table (or pass --containerd-config for another file) and run install again`,
    );
  }
  return text === "" ? block : `${text}\n${block}`;
}

/**
 * Removes what {@link addFloxRuntime} added: the block and the one newline before it. Text without
 * the block is returned unchanged.
 */
export function removeFloxRuntime(text: string): string {
  const block = findBlock(text);
  if (block === undefined) return text;
  const before = text.slice(0, block.start);
  return (before === "" ? "" : before.slice(0, -1)) + text.slice(block.end);
}

/**
 * The config schema a file uses: its `version` key, else what this containerd's major version reads
 * by default. Version 1 configs (containerd 1.x files without `version = 2`) use other plugin names.
 *
 * @throws {ImagelessError} `unsupported` for version 1 or an unknown version, `invalid-input` when
 * neither the file nor containerd tells
 */
export function configSchema(
  parsed: Readonly<Record<string, unknown>>,
  containerdMajor: number | undefined,
  source: string,
): ConfigSchema {
  const version = parsed["version"];
  if (version === 2 || version === 3) return version;
  if (version === undefined && Object.keys(parsed).length === 0 && containerdMajor !== undefined) {
    return containerdMajor >= 2 ? 3 : 2;
  }
  if (version === undefined && containerdMajor !== undefined && containerdMajor >= 2) return 3;
  throw new ImagelessError(
    "unsupported",
    `containerd config ${source}: version = ${version === undefined ? "(none, i.e. 1)" : String(version)} is not supported: accepted versions are 2 (containerd 1.6/1.7) and 3 (containerd 2.x); migrate it with \`containerd config migrate\` or start from \`containerd config default\``,
  );
}

/**
 * The default runtime's options (`default_runtime_name`, else `runc`), without `BinaryName`, as the
 * flox runtime inherits them. Values other than scalars and flat arrays are left out.
 */
export function defaultRuntimeOptions(
  parsed: Readonly<Record<string, unknown>>,
  schema: ConfigSchema,
): Record<string, OptionValue> {
  const containerd = tableAt(parsed, ["plugins", criRuntimePlugin(schema), "containerd"]);
  const name = containerd?.["default_runtime_name"];
  const runtimeName = typeof name === "string" && name !== "" ? name : "runc";
  const options = tableAt(containerd ?? {}, ["runtimes", runtimeName, "options"]) ?? {};
  const out: Record<string, OptionValue> = {};
  for (const [key, value] of Object.entries(options)) {
    if (key === "BinaryName") continue;
    if (isOptionValue(value)) out[key] = value;
  }
  return out;
}

/** The flox runtime table as containerd would read it from `parsed`, or undefined. */
export function floxRuntimeTable(
  parsed: Readonly<Record<string, unknown>>,
  schema: ConfigSchema,
): Readonly<Record<string, unknown>> | undefined {
  return tableAt(parsed, ["plugins", criRuntimePlugin(schema), "containerd", "runtimes", FLOX_HANDLER]);
}

/**
 * Whether `parsed` (a drop-in) sets anything in the CRI runtime plugin. containerd 1.x replaces a
 * whole plugin section with the last imported file that names it, so the flox runtime must go there.
 */
export function definesCriPlugin(parsed: Readonly<Record<string, unknown>>, schema: ConfigSchema): boolean {
  return tableAt(parsed, ["plugins", criRuntimePlugin(schema)]) !== undefined;
}

/**
 * Parses TOML for a decision, naming the file on failure.
 *
 * @throws {ImagelessError} `invalid-input` for text that is not TOML
 */
export function parseContainerdConfig(text: string, source: string): Record<string, unknown> {
  try {
    return parse(text);
  } catch (error) {
    const first = error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error);
    throw new ImagelessError("invalid-input", `containerd config ${source}: not valid TOML: ${first}`, {
      cause: error,
    });
  }
}

/** The table at `path` under `root`, or undefined when any step is missing or not a table. */
export function tableAt(
  root: Readonly<Record<string, unknown>>,
  path: readonly string[],
): Readonly<Record<string, unknown>> | undefined {
  let current: unknown = root;
  for (const key of path) {
    if (!isTable(current) || !Object.hasOwn(current, key)) return undefined;
    current = current[key];
  }
  return isTable(current) ? current : undefined;
}

function isTable(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean";
}

function isOptionValue(value: unknown): value is OptionValue {
  if (isScalar(value) || typeof value === "bigint") return true;
  return Array.isArray(value) && value.every(isScalar);
}

function renderKey(key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? key : renderString(key);
}

function renderValue(value: OptionValue): string {
  if (typeof value === "string") return renderString(value);
  if (typeof value === "number") {
    if (Number.isNaN(value)) return "nan";
    if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
    return Number.isInteger(value) ? value.toFixed(0) : String(value);
  }
  if (typeof value === "bigint" || typeof value === "boolean") return String(value);
  return `[${value.map((item) => renderValue(item)).join(", ")}]`;
}

/** A TOML basic string: JSON's escapes are a subset of TOML's, except `\u007f` which TOML wants escaped. */
function renderString(value: string): string {
  return JSON.stringify(value).replace(/\u007f/g, "\\u007f");
}
