import { ImagelessError } from "../errors/imageless-error.js";

// `$NAME` or `${NAME}`: the only expansions done without a shell. Anything else a shell would
// interpret (`$(…)`, backticks, `${X:-d}`, `$1`, `~`) means the value needs bash to be faithful.
const REFERENCE = /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g;
const SHELL_ONLY = /`|\$\(|\$\{[^}]*[^A-Za-z0-9_}][^}]*\}|\$[0-9@*#?$!-]|\\|^~/;

/** True when a `[vars]` value uses shell syntax beyond `$NAME`/`${NAME}`, so only bash can expand it. */
export function isShellOnlyValue(value: string): boolean {
  return SHELL_ONLY.test(value);
}

/** Names a value refers to with `$NAME` or `${NAME}`. */
export function referencedNames(value: string): string[] {
  return [...value.matchAll(REFERENCE)].map((match) => match[1] ?? match[2] ?? "");
}

/**
 * Orders `[vars]` so that every variable comes after the ones it references (as Flox does), keeping
 * file order otherwise. A cycle cannot be expanded in any order and is an error naming it.
 *
 * @throws {ImagelessError} kind "invalid-input" for a reference cycle.
 */
export function orderVars(vars: Readonly<Record<string, string>>): string[] {
  const names = Object.keys(vars);
  const ordered: string[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (name: string, path: string[]): void => {
    const seen = state.get(name);
    if (seen === "done") return;
    if (seen === "visiting") {
      const cycle = [...path.slice(path.indexOf(name)), name].join(" -> ");
      throw new ImagelessError(
        "invalid-input",
        `manifest [vars]: variables reference each other in a cycle: ${cycle}`,
      );
    }
    state.set(name, "visiting");
    for (const dependency of referencedNames(vars[name] ?? "")) {
      if (dependency !== name && dependency in vars) visit(dependency, [...path, name]);
    }
    state.set(name, "done");
    ordered.push(name);
  };
  for (const name of names) visit(name, []);
  return ordered;
}

/** Expands `$NAME`/`${NAME}` from `env`; an unset name expands to "" as in bash. */
export function expandReferences(value: string, env: ReadonlyMap<string, string>): string {
  return value.replace(REFERENCE, (_, braced: string | undefined, bare: string | undefined) => {
    return env.get(braced ?? bare ?? "") ?? "";
  });
}
