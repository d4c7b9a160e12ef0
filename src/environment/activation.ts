import type { ActivateMode } from "../pod/policy.js";
import { hasHook, varsNeedingShell } from "./hook-script.js";
import { expandReferences, orderVars } from "./vars.js";

/**
 * What activation depends on in the built environment, found by looking into it once at create
 * (Flox's profile.d scripts test the same paths each time they activate).
 */
export interface DevLayout {
  /** `bin/python3` is executable; `version` is its `major.minor` when it could be told. */
  readonly python?: { readonly version?: string };
  /** `lib/python<version>/site-packages` directories, relative to $FLOX_ENV, sorted (used when the version is unknown). */
  readonly pythonSitePackages: readonly string[];
  /** `bin/pip3` is executable. */
  readonly pip3?: boolean;
  /** `bin/cmake` is executable. */
  readonly cmake?: boolean;
  /** `share/jupyter` exists. */
  readonly jupyter: boolean;
  /** `bin/java` exists. */
  readonly java: boolean;
  /** `rustc-std-workspace-std` is a directory (nixpkgs' rustLibSrc is installed). */
  readonly rustSrc: boolean;
  /** `etc/profile.d/*.sh` of the packages, sorted; dev mode sources them. */
  readonly profileScripts?: readonly string[];
}

/**
 * Defaults of Flox's `envrc` (CA bundle, locale archive): files visible in the container, chosen on
 * the node from the environment, its closure or the node config. Absent when there is none.
 */
export interface ActivationDefaults {
  readonly caBundle?: string;
  readonly localeArchive?: string;
}

/** Everything activation depends on; recorded per container so exec processes get the same result. */
export interface ActivationInput {
  /** The built environment ($FLOX_ENV), a store path visible at the same path in the container. */
  readonly floxEnv: string;
  readonly owner: string;
  readonly name: string;
  readonly generation: number;
  /**
   * The pod named the generation (`owner/name:N`); only then does `_FLOX_ACTIVE_ENVIRONMENTS` carry
   * it, as Flox records a generation only for `flox activate -g`. Absent in records written before
   * this field existed, which always carried it.
   */
  readonly pinned?: boolean;
  readonly mode: ActivateMode;
  readonly floxhubUrl: string;
  /** `[vars]` of the manifest in file order. */
  readonly vars: Readonly<Record<string, string>>;
  /** `hook.on-activate`, when the manifest has one. */
  readonly hook?: string;
  /** The container's writable $FLOX_ENV_CACHE, as seen inside the container. */
  readonly envCache: string;
  readonly disableMetrics: boolean;
  /** The environment's layout; absent means none of the optional paths exist. */
  readonly devLayout?: DevLayout;
  /** CA bundle and locale archive for the envrc defaults. */
  readonly defaults?: ActivationDefaults;
}

export interface Activation {
  /** The process environment, `KEY=VALUE`, container variables first, then Flox's. */
  readonly env: string[];
  /**
   * True when only bash can activate faithfully (a hook, `[vars]` with shell syntax, or packages'
   * profile.d scripts in dev mode); `env` then lacks what the activation script exports.
   */
  readonly needsShell: boolean;
}

// What a container's PATH is when its image sets none (containerd's default for Linux).
const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The file Flox's python profile script points PIP_CONFIG_FILE at, in $FLOX_ENV_CACHE. */
export const PIP_CONFIG_NAME = "pip.ini";
/** What that file says: pip refuses to install outside a virtual environment. */
export const PIP_CONFIG = "[global]\nrequire-virtualenv = true\n";

/**
 * Computes the environment a command sees when activated (SPEC §5) from the container's own
 * environment, in the order Flox's `activate` script applies it (docs/flox-compatibility.md):
 * FLOX_ENV_DIRS, PATH and MANPATH; the run-mode paths; in dev mode the development variables; the
 * envrc defaults; `[vars]`. Pure, so the main process and every exec get the same result.
 *
 * @example
 * computeActivation(input, ["PATH=/bin", "HOME=/root"], "/").env; // ["PATH=/nix/store/…-env/bin:/bin", …]
 */
export function computeActivation(
  input: ActivationInput,
  containerEnv: readonly string[],
  cwd: string,
): Activation {
  const env = new Map<string, string>();
  for (const entry of containerEnv) {
    const eq = entry.indexOf("=");
    if (eq > 0) env.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  const floxEnv = input.floxEnv;

  env.set("FLOX_ENV", floxEnv);
  env.set("FLOX_ENV_CACHE", input.envCache);
  env.set("FLOX_ENV_PROJECT", cwd);
  env.set("FLOX_ENV_DESCRIPTION", `${input.owner}/${input.name}`);
  env.set("_FLOX_ACTIVE_ENVIRONMENTS", activeEnvironmentsJson(input, env.get("_FLOX_ACTIVE_ENVIRONMENTS")));
  // The Flox CLI recognises a containerd runtime by this variable (it reports invocation source "containerd").
  env.set("FLOX_CONTAINERD", "1");
  if (input.disableMetrics) env.set("FLOX_DISABLE_METRICS", "true");

  const envDirs = envDirsWith(floxEnv, env.get("FLOX_ENV_DIRS") ?? "");
  env.set("FLOX_ENV_DIRS", joinDirs(envDirs));
  env.set("PATH", joinDirs(prependDirs(envDirs, ["bin"], splitDirs(env.get("PATH") ?? DEFAULT_PATH))));
  env.set("MANPATH", manpathWith(envDirs, env.get("MANPATH") ?? ""));
  // A trailing ":" (INFOPATH unset) makes info append its default directories.
  env.set("INFOPATH", `${floxEnv}/share/info:${env.get("INFOPATH") ?? ""}`);
  const xdg = env.get("XDG_DATA_DIRS") ?? "";
  env.set("XDG_DATA_DIRS", xdg === "" ? `${floxEnv}/share` : `${floxEnv}/share:${xdg}`);
  if (input.mode === "dev") setDevelopmentVariables(input, envDirs, env);
  setEnvrcDefaults(input.defaults, env);

  // Variables only bash can expand are left to the activation script, which runs with this env.
  const shellVars = new Set(varsNeedingShell(input.vars));
  for (const name of orderVars(input.vars)) {
    if (shellVars.has(name)) continue;
    env.set(name, expandReferences(input.vars[name] ?? "", env));
  }
  const profileScripts = input.mode === "dev" ? (input.devLayout?.profileScripts ?? []) : [];
  const needsShell = hasHook(input.hook) || shellVars.size > 0 || profileScripts.length > 0;
  return { env: [...env].map(([key, value]) => `${key}=${value}`), needsShell };
}

/**
 * Development variables of `dev` mode, as Flox's dev profile scripts set them: the compiler and
 * build-tool search paths always (prepended), the language ones only when the environment has that
 * language (python3, pip3, cmake, jupyter, java, rustLibSrc).
 */
function setDevelopmentVariables(
  input: ActivationInput,
  envDirs: readonly string[],
  env: Map<string, string>,
): void {
  const floxEnv = input.floxEnv;
  const prepend = (key: string, value: string): void => {
    const current = env.get(key) ?? "";
    env.set(key, current === "" ? value : `${value}:${current}`);
  };
  prepend("CPATH", `${floxEnv}/include`);
  prepend("LIBRARY_PATH", `${floxEnv}/lib`);
  prepend("PKG_CONFIG_PATH", `${floxEnv}/share/pkgconfig`);
  env.set("PKG_CONFIG_PATH", `${floxEnv}/lib/pkgconfig:${env.get("PKG_CONFIG_PATH") ?? ""}`);
  prepend("ACLOCAL_PATH", `${floxEnv}/share/aclocal`);
  const layout = input.devLayout;
  if (layout === undefined) return;
  if (layout.rustSrc) env.set("RUST_SRC_PATH", floxEnv);
  if (layout.jupyter) prepend("JUPYTER_PATH", `${floxEnv}/share/jupyter`);
  if (layout.java) env.set("JAVA_HOME", floxEnv);
  if (layout.python !== undefined) {
    const existing = splitDirs(env.get("PYTHONPATH") ?? "");
    const version = layout.python.version;
    const dirs =
      version !== undefined
        ? prependDirs(envDirs, [`lib/python${version}/site-packages`], existing)
        : prependDirs(
            layout.pythonSitePackages.map((dir) => `${floxEnv}/${dir}`),
            [],
            existing,
          );
    if (dirs.length > 0) env.set("PYTHONPATH", joinDirs(dirs));
  }
  if (layout.pip3 === true) env.set("PIP_CONFIG_FILE", `${input.envCache}/${PIP_CONFIG_NAME}`);
  if (layout.cmake === true) {
    env.set(
      "CMAKE_PREFIX_PATH",
      joinDirs(prependDirs(envDirs, [], splitDirs(env.get("CMAKE_PREFIX_PATH") ?? ""))),
    );
  }
}

/**
 * Flox's `envrc` defaults: each only when the variable is unset or empty, so a container's own
 * value wins; NIX_SSL_CERT_FILE follows SSL_CERT_FILE.
 */
function setEnvrcDefaults(defaults: ActivationDefaults | undefined, env: Map<string, string>): void {
  const orDefault = (key: string, fallback: string | undefined): void => {
    if ((env.get(key) ?? "") === "" && fallback !== undefined && fallback !== "") env.set(key, fallback);
  };
  orDefault("SSL_CERT_FILE", defaults?.caBundle);
  orDefault("NIX_SSL_CERT_FILE", env.get("SSL_CERT_FILE"));
  orDefault("LOCALE_ARCHIVE", defaults?.localeArchive);
}

/** A `:`-separated list as Flox splits it: `""` and `"empty"` are no entries at all. */
export function splitDirs(value: string): string[] {
  return value === "" || value === "empty" ? [] : value.split(":");
}

function joinDirs(dirs: readonly string[]): string {
  return dirs.join(":");
}

/** FLOX_ENV_DIRS: `floxEnv` in front unless an outer activation already listed it. */
function envDirsWith(floxEnv: string, existing: string): string[] {
  const dirs = splitDirs(existing);
  return dirs.includes(floxEnv) ? dirs : [floxEnv, ...dirs];
}

/**
 * Each of `envDirs` (with each suffix) in front of `existing`, every directory once: the rule of
 * flox-activations' `prepend-and-dedup`, used for PATH, MANPATH, PYTHONPATH and CMAKE_PREFIX_PATH.
 * Empty entries of `existing` are kept (they mean "the default" to man and others).
 *
 * @example
 * prependDirs(["/e"], ["bin"], ["/usr/bin", "/e/bin", "/usr/bin"]); // ["/e/bin", "/usr/bin"]
 */
export function prependDirs(
  envDirs: readonly string[],
  suffixes: readonly string[],
  existing: readonly string[],
): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const dir of envDirs) {
    for (const candidate of suffixes.length === 0 ? [dir] : suffixes.map((suffix) => `${dir}/${suffix}`)) {
      if (!seen.has(candidate)) {
        seen.add(candidate);
        out.push(candidate);
      }
    }
  }
  for (const dir of existing) {
    if (dir === "") out.push(dir);
    else if (!seen.has(dir)) {
      seen.add(dir);
      out.push(dir);
    }
  }
  return out;
}

/**
 * MANPATH as flox-activations' `fix-paths` builds it: `share/man` of each environment directory in
 * front, duplicates dropped, and a trailing `:` (man's default directories) unless the old value
 * already had an empty entry somewhere.
 */
function manpathWith(envDirs: readonly string[], existing: string): string {
  const joined = joinDirs(prependDirs(envDirs, ["share/man"], splitDirs(existing)));
  const hasEmpty = existing.startsWith(":") || existing.endsWith(":") || existing.includes("::");
  return hasEmpty ? joined : `${joined}:`;
}

/** `_FLOX_ACTIVE_ENVIRONMENTS` as Flox writes it: a JSON array, newest first. */
function activeEnvironmentsJson(input: ActivationInput, existing: string | undefined): string {
  const entry = {
    environment: {
      type: "remote",
      owner: input.owner,
      name: input.name,
      floxhub_url: input.floxhubUrl,
      version: 1,
    },
    ...(input.pinned === false ? {} : { generation: String(input.generation) }),
    mode: input.mode,
  };
  let previous: unknown[] = [];
  try {
    const parsed: unknown = existing === undefined ? [] : JSON.parse(existing);
    if (Array.isArray(parsed)) previous = parsed;
  } catch {
    // An unparsable inherited value is dropped rather than failing the start.
  }
  return JSON.stringify([entry, ...previous]);
}
