import type { GenerationView, PackageRow } from "./environment-view.js";

/**
 * One package that differs. `from`/`to` are its versions (the locked version, else the store path,
 * else the catalog path), several joined by ", " when systems differ; `upgraded` means the locked
 * version or store path changed (a downgrade too: the word is Flox's, `flox upgrade`).
 */
export interface PackageChange {
  readonly installId: string;
  readonly change: "added" | "removed" | "upgraded";
  readonly from?: string;
  readonly to?: string;
}

/** One `[vars]` entry that differs. */
export interface VarChange {
  readonly name: string;
  readonly change: "added" | "removed" | "changed";
  readonly from?: string;
  readonly to?: string;
}

/** A script (the on-activate hook, or one shell's profile script) whose text differs. */
export interface ScriptChange {
  /** `hook.on-activate`, or `profile.<shell>`. */
  readonly script: string;
  readonly from?: string;
  readonly to?: string;
}

/** What changed from one generation to another, each list sorted by name. */
export interface GenerationDiff {
  readonly packages: readonly PackageChange[];
  readonly vars: readonly VarChange[];
  readonly scripts: readonly ScriptChange[];
}

/**
 * What changed from generation `from` to generation `to` (pure): packages added, removed or
 * upgraded (by install id), variables added, removed or changed, and scripts whose text changed.
 * Systems a package is locked for are not compared, only what it resolves to.
 *
 * @example
 * diffGenerations(one, two).packages; // [{ installId: "hello", change: "upgraded", from: "1.0", to: "2.0" }]
 */
export function diffGenerations(from: GenerationView, to: GenerationView): GenerationDiff {
  const before = versionsById(from.packages);
  const after = versionsById(to.packages);
  const packages: PackageChange[] = [];
  for (const installId of sortedKeys(before, after)) {
    const a = before.get(installId);
    const b = after.get(installId);
    if (a === undefined && b !== undefined) packages.push({ installId, change: "added", to: b });
    else if (b === undefined && a !== undefined) packages.push({ installId, change: "removed", from: a });
    else if (a !== b && a !== undefined && b !== undefined)
      packages.push({ installId, change: "upgraded", from: a, to: b });
  }

  const vars: VarChange[] = [];
  const varsBefore = new Map(Object.entries(from.vars));
  const varsAfter = new Map(Object.entries(to.vars));
  for (const name of sortedKeys(varsBefore, varsAfter)) {
    const a = varsBefore.get(name);
    const b = varsAfter.get(name);
    if (a === undefined && b !== undefined) vars.push({ name, change: "added", to: b });
    else if (b === undefined && a !== undefined) vars.push({ name, change: "removed", from: a });
    else if (a !== b && a !== undefined && b !== undefined)
      vars.push({ name, change: "changed", from: a, to: b });
  }

  const scripts: ScriptChange[] = [];
  const script = (name: string, a: string | undefined, b: string | undefined) => {
    if (a === b) return;
    scripts.push({
      script: name,
      ...(a === undefined ? {} : { from: a }),
      ...(b === undefined ? {} : { to: b }),
    });
  };
  script("hook.on-activate", from.hook.onActivate, to.hook.onActivate);
  const shells = sortedKeys(new Map(Object.entries(from.profile)), new Map(Object.entries(to.profile)));
  for (const shell of shells) script(`profile.${shell}`, from.profile[shell], to.profile[shell]);
  return { packages, vars, scripts };
}

/** Each install id's versions as one comparable label. */
function versionsById(rows: readonly PackageRow[]): Map<string, string> {
  const labels = new Map<string, Set<string>>();
  for (const row of rows) {
    const label = row.version ?? row.storePath ?? row.pkgPath ?? "";
    const known = labels.get(row.installId) ?? new Set<string>();
    known.add(label);
    labels.set(row.installId, known);
  }
  return new Map([...labels].map(([id, set]) => [id, [...set].sort().join(", ")]));
}

function sortedKeys(a: ReadonlyMap<string, unknown>, b: ReadonlyMap<string, unknown>): string[] {
  return [...new Set([...a.keys(), ...b.keys()])].sort();
}
