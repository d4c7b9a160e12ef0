import type { ActivateMode } from "../pod/policy.js";
import { hasHook, varsNeedingShell } from "./hook-script.js";
import { expandReferences, orderVars } from "./vars.js";

/**
 * What `dev` mode's variables depend on in the built environment, found by looking into it once at
 * create (Flox's dev profile scripts test the same paths at activation).
 */
export interface DevLayout {
  /** `lib/python<version>/site-packages` directories, relative to $FLOX_ENV, sorted. */
  readonly pythonSitePackages: readonly string[];
  /** `share/jupyter` exists. */
  readonly jupyter: boolean;
  /** `bin/java` exists. */
  readonly java: boolean;
  /** `lib/rustlib/src/rust/library` exists. */
  readonly rustSrc: boolean;
}

/** Everything activation depends on; recorded per container so exec processes get the same result. */
export interface ActivationInput {
  /** The built environment ($FLOX_ENV), a store path visible at the same path in the container. */
  readonly floxEnv: string;
  readonly owner: string;
  readonly name: string;
  readonly generation: number;
  readonly mode: ActivateMode;
  readonly floxhubUrl: string;
  /** `[vars]` of the manifest in file order. */
  readonly vars: Readonly<Record<string, string>>;
  /** `hook.on-activate`, when the manifest has one. */
  readonly hook?: string;
  /** The container's writable $FLOX_ENV_CACHE, as seen inside the container. */
  readonly envCache: string;
  readonly disableMetrics: boolean;
  /** The environment's layout for `dev` mode; absent means none of the optional paths exist. */
  readonly devLayout?: DevLayout;
}

export interface Activation {
  /** The process environment, `KEY=VALUE`, container variables first, then Flox's. */
  readonly env: string[];
  /**
   * True when only bash can activate faithfully (a hook, or `[vars]` with shell syntax); `env` then
   * lacks the `[vars]` the activation script exports (see `varsNeedingShell`).
   */
  readonly needsShell: boolean;
}

// What a container's PATH is when its image sets none (containerd's default for Linux).
const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const DEFAULT_XDG_DATA_DIRS = "/usr/local/share:/usr/share";

/**
 * Computes the environment a command sees when activated (SPEC §5) from the container's own
 * environment. Pure, so the same input gives the same process env for the main process and for
 * every exec.
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
  const prepend = (key: string, value: string, fallback: string): void => {
    const current = env.get(key) ?? fallback;
    env.set(key, current === "" ? value : `${value}:${current}`);
  };

  prepend("PATH", `${floxEnv}/bin`, DEFAULT_PATH);
  // The trailing ":" makes man also search its default path (Flox does the same).
  env.set("MANPATH", `${floxEnv}/share/man:${env.get("MANPATH") ?? ""}`);
  prepend("INFOPATH", `${floxEnv}/share/info`, "");
  prepend("XDG_DATA_DIRS", `${floxEnv}/share`, DEFAULT_XDG_DATA_DIRS);
  env.set("FLOX_ENV", floxEnv);
  env.set("FLOX_ENV_CACHE", input.envCache);
  env.set("FLOX_ENV_PROJECT", cwd);
  env.set("FLOX_ENV_DESCRIPTION", `${input.owner}/${input.name}`);
  prepend("FLOX_ENV_DIRS", floxEnv, "");
  env.set("_FLOX_ACTIVE_ENVIRONMENTS", activeEnvironmentsJson(input, env.get("_FLOX_ACTIVE_ENVIRONMENTS")));
  // The Flox CLI recognises a containerd runtime by this variable (it reports invocation source "containerd").
  env.set("FLOX_CONTAINERD", "1");
  if (input.disableMetrics) env.set("FLOX_DISABLE_METRICS", "true");
  if (input.mode === "dev") setDevelopmentVariables(floxEnv, input.devLayout, prepend, env);

  // Variables only bash can expand are left to the activation script, which runs with this env.
  const shellVars = new Set(varsNeedingShell(input.vars));
  for (const name of orderVars(input.vars)) {
    if (shellVars.has(name)) continue;
    env.set(name, expandReferences(input.vars[name] ?? "", env));
  }
  const needsShell = hasHook(input.hook) || shellVars.size > 0;
  return { env: [...env].map(([key, value]) => `${key}=${value}`), needsShell };
}

/**
 * Development variables of `dev` mode (SPEC §5), pointing into the environment: the compiler and
 * build-tool search paths always, the language ones only where the environment has that language's
 * directory (as Flox's dev profile scripts decide).
 */
function setDevelopmentVariables(
  floxEnv: string,
  layout: DevLayout | undefined,
  prepend: (key: string, value: string, fallback: string) => void,
  env: Map<string, string>,
): void {
  prepend("CPATH", `${floxEnv}/include`, "");
  prepend("LIBRARY_PATH", `${floxEnv}/lib`, "");
  prepend("PKG_CONFIG_PATH", `${floxEnv}/share/pkgconfig`, "");
  prepend("PKG_CONFIG_PATH", `${floxEnv}/lib/pkgconfig`, "");
  prepend("ACLOCAL_PATH", `${floxEnv}/share/aclocal`, "");
  prepend("CMAKE_PREFIX_PATH", floxEnv, "");
  if (layout === undefined) return;
  // Reversed so that, after prepending one by one, they appear in sorted order.
  for (const dir of [...layout.pythonSitePackages].reverse()) prepend("PYTHONPATH", `${floxEnv}/${dir}`, "");
  if (layout.jupyter) prepend("JUPYTER_PATH", `${floxEnv}/share/jupyter`, "");
  if (layout.java) env.set("JAVA_HOME", floxEnv);
  if (layout.rustSrc) env.set("RUST_SRC_PATH", `${floxEnv}/lib/rustlib/src/rust/library`);
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
    generation: String(input.generation),
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
