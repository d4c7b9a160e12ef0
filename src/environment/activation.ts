import type { ActivateMode } from "../pod/policy.js";
import { expandReferences, isShellOnlyValue, orderVars } from "./vars.js";

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
}

export interface Activation {
  /** The process environment, `KEY=VALUE`, container variables first, then Flox's. */
  readonly env: string[];
  /** True when only bash can activate faithfully (a hook, or `[vars]` with shell syntax). */
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
  if (input.mode === "dev") setDevelopmentVariables(floxEnv, prepend);

  let needsShell = input.hook !== undefined && input.hook.trim() !== "";
  for (const name of orderVars(input.vars)) {
    const value = input.vars[name] ?? "";
    if (isShellOnlyValue(value)) needsShell = true;
    env.set(name, expandReferences(value, env));
  }
  return { env: [...env].map(([key, value]) => `${key}=${value}`), needsShell };
}

/** Development variables of `dev` mode (SPEC §5), pointing into the environment. */
function setDevelopmentVariables(
  floxEnv: string,
  prepend: (key: string, value: string, fallback: string) => void,
): void {
  prepend("CPATH", `${floxEnv}/include`, "");
  prepend("LIBRARY_PATH", `${floxEnv}/lib`, "");
  prepend("PKG_CONFIG_PATH", `${floxEnv}/share/pkgconfig`, "");
  prepend("PKG_CONFIG_PATH", `${floxEnv}/lib/pkgconfig`, "");
  prepend("ACLOCAL_PATH", `${floxEnv}/share/aclocal`, "");
  prepend("CMAKE_PREFIX_PATH", floxEnv, "");
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
