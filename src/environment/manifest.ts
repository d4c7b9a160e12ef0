import { parse as parseToml } from "smol-toml";
import { ImagelessError } from "../errors/imageless-error.js";

/** The `[profile]` scripts, one per shell; only run for interactive shells, never for a pod's command. */
export interface ManifestProfile {
  readonly common?: string;
  readonly bash?: string;
  readonly zsh?: string;
  readonly fish?: string;
  readonly tcsh?: string;
}

/** The `[options]` the node acts on. */
export interface ManifestOptions {
  /** Systems the environment is locked for; absent means "whatever the lock holds". */
  readonly systems?: readonly string[];
  /** `options.activate.mode`; Flox's default is `dev`, a pod's default is `run` (decided elsewhere). */
  readonly activateMode?: "run" | "dev";
}

/**
 * The parts of a Flox `manifest.toml` (or the JSON copy embedded in `manifest.lock`) the runtime
 * uses. Sections it does not act on (`[build]`, `[include]`, `[containerize]` …) are accepted and
 * dropped: newer Flox schema versions add sections, and refusing them would refuse environments
 * whose packages we can run perfectly well.
 */
export interface Manifest {
  /** `schema-version`, or the old integer `version` as text (`"1"`). */
  readonly schemaVersion?: string;
  /** `[install.<id>]` descriptors, each a table, kept as written (kebab-case keys). */
  readonly install: Readonly<Record<string, unknown>>;
  /** `[vars]`, in file order (the activation orders them by reference, not this module). */
  readonly vars: Readonly<Record<string, string>>;
  readonly hook: { readonly onActivate?: string };
  readonly profile: ManifestProfile;
  readonly options: ManifestOptions;
  /** `[services]` as written; not supported yet, kept so callers can say so. */
  readonly services?: unknown;
}

/**
 * Parses a `manifest.toml`.
 *
 * @param source names the input in errors, e.g. `manifest.toml of 'acme/web' generation 3`.
 * @throws {ImagelessError} `invalid-input` for bad TOML or a field of the wrong type.
 * @example
 * const m = parseManifestToml('[vars]\nGREETING = "hi"\n', "manifest.toml");
 * m.vars.GREETING; // "hi"
 */
export function parseManifestToml(text: string, source: string): Manifest {
  let data: unknown;
  try {
    data = parseToml(text);
  } catch (error) {
    const reason = error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error);
    throw new ImagelessError("invalid-input", `${source}: not valid TOML: ${reason}`, { cause: error });
  }
  return manifestFromObject(data, source);
}

/**
 * Validates an already-parsed manifest object (TOML or JSON) into a {@link Manifest}.
 *
 * @throws {ImagelessError} `invalid-input` naming `source`, the field and the accepted shape.
 */
export function manifestFromObject(data: unknown, source: string): Manifest {
  const top = table(data, source, "the manifest");
  const schemaVersion = readSchemaVersion(top, source);
  const install = table(top["install"] ?? {}, source, "[install]");
  for (const [id, descriptor] of Object.entries(install)) table(descriptor, source, `[install.${id}]`);
  const hook = table(top["hook"] ?? {}, source, "[hook]");
  const profile = table(top["profile"] ?? {}, source, "[profile]");
  const options = table(top["options"] ?? {}, source, "[options]");
  const activate = table(options["activate"] ?? {}, source, "options.activate");
  const mode = readMode(activate["mode"], source);
  const systems = optionalStringList(options["systems"], source, "options.systems");
  const manifest: Manifest = {
    ...(schemaVersion === undefined ? {} : { schemaVersion }),
    install: Object.freeze({ ...install }),
    vars: Object.freeze(readVars(top["vars"], source)),
    hook: Object.freeze(
      defined({ onActivate: optionalString(hook["on-activate"], source, "hook.on-activate") }),
    ),
    profile: Object.freeze(
      defined({
        common: optionalString(profile["common"], source, "profile.common"),
        bash: optionalString(profile["bash"], source, "profile.bash"),
        zsh: optionalString(profile["zsh"], source, "profile.zsh"),
        fish: optionalString(profile["fish"], source, "profile.fish"),
        tcsh: optionalString(profile["tcsh"], source, "profile.tcsh"),
      }),
    ),
    options: Object.freeze(
      defined({ systems: systems === undefined ? undefined : Object.freeze(systems), activateMode: mode }),
    ),
    ...(top["services"] === undefined ? {} : { services: top["services"] }),
  };
  return Object.freeze(manifest);
}

function readSchemaVersion(top: Record<string, unknown>, source: string): string | undefined {
  const schema = top["schema-version"];
  if (typeof schema === "string") return schema;
  if (schema !== undefined) {
    throw new ImagelessError("invalid-input", `${source}: schema-version must be a string like "1.14.0"`);
  }
  const version = top["version"];
  if (version === undefined) return undefined;
  if (typeof version === "number" || typeof version === "bigint") return String(version);
  throw new ImagelessError("invalid-input", `${source}: version must be an integer (1)`);
}

function readMode(value: unknown, source: string): "run" | "dev" | undefined {
  const mode = optionalString(value, source, "options.activate.mode");
  if (mode === undefined || mode === "run" || mode === "dev") return mode;
  throw new ImagelessError(
    "invalid-input",
    `${source}: options.activate.mode cannot be "${mode}": accepted values are "run" and "dev"`,
  );
}

function readVars(value: unknown, source: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const [name, v] of Object.entries(table(value ?? {}, source, "[vars]"))) {
    if (typeof v !== "string") {
      throw new ImagelessError(
        "invalid-input",
        `${source}: vars.${name} must be a string, not ${describe(v)}`,
      );
    }
    vars[name] = v;
  }
  return vars;
}

function table(value: unknown, source: string, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof Date) {
    throw new ImagelessError("invalid-input", `${source}: ${what} must be a table, not ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

function optionalString(value: unknown, source: string, what: string): string | undefined {
  if (value === undefined || typeof value === "string") return value;
  throw new ImagelessError("invalid-input", `${source}: ${what} must be a string, not ${describe(value)}`);
}

function optionalStringList(value: unknown, source: string, what: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return [...value];
  throw new ImagelessError(
    "invalid-input",
    `${source}: ${what} must be a list of strings, not ${describe(value)}`,
  );
}

function defined<T extends Record<string, unknown>>(
  record: T,
): { [K in keyof T]?: Exclude<T[K], undefined> } {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) if (v !== undefined) out[k] = v;
  return out as { [K in keyof T]?: Exclude<T[K], undefined> };
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a table";
  return `${typeof value} ${JSON.stringify(typeof value === "bigint" ? String(value) : value)}`;
}
