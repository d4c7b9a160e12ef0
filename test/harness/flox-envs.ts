import type { StorePath } from "../../src/nix/store-path.js";
import { lockEntry } from "./nix-fixtures.js";

/** One package of a fixture generation: a fixture store path under an install id. */
export interface FixturePackage {
  readonly installId: string;
  readonly path: StorePath;
  readonly priority?: number;
  /** Every output of a multi-output package (`path` is then its `out`); default `{ out: path }`. */
  readonly outputs?: Record<string, StorePath>;
  readonly outputsToInstall?: string[];
}

/**
 * A generation as Flox would write it: manifest.toml and a manifest.lock whose embedded manifest
 * matches, with catalog-shaped entries for x86_64-linux pointing at fixture store paths.
 */
export interface GenerationOptions {
  vars?: Record<string, string>;
  hook?: string;
  /** `schema-version` (e.g. "1.10.0") instead of `version = 1`: outputs follow outputs_to_install. */
  schemaVersion?: string;
  /** `[options] activate.mode`. */
  activateMode?: "run" | "dev";
  /** `[services.<name>] command`. */
  services?: Record<string, string>;
}

export function fixtureGeneration(
  packages: readonly FixturePackage[],
  options: GenerationOptions = {},
): { manifestToml: string; lock: object } {
  const vars = options.vars ?? {};
  const install = Object.fromEntries(packages.map((pkg) => [pkg.installId, { "pkg-path": pkg.installId }]));
  const services = Object.fromEntries(
    Object.entries(options.services ?? {}).map(([name, command]) => [name, { command }]),
  );
  const manifest = {
    ...(options.schemaVersion === undefined ? { version: 1 } : { "schema-version": options.schemaVersion }),
    install,
    vars,
    hook: options.hook === undefined ? {} : { "on-activate": options.hook },
    profile: {},
    options: {
      systems: ["x86_64-linux"],
      ...(options.activateMode === undefined ? {} : { activate: { mode: options.activateMode } }),
    },
    ...(options.services === undefined ? {} : { services }),
  };
  const toml = [
    options.schemaVersion === undefined
      ? "version = 1"
      : `schema-version = ${JSON.stringify(options.schemaVersion)}`,
    "[install]",
    ...packages.map((pkg) => `${pkg.installId}.pkg-path = "${pkg.installId}"`),
    "[vars]",
    ...Object.entries(vars).map(([key, value]) => `${key} = ${JSON.stringify(value)}`),
    "[hook]",
    ...(options.hook === undefined ? [] : [`on-activate = ${JSON.stringify(options.hook)}`]),
    "[options]",
    'systems = ["x86_64-linux"]',
    ...(options.activateMode === undefined ? [] : [`activate.mode = "${options.activateMode}"`]),
    ...(options.services === undefined ? [] : ["[services]"]),
    ...Object.entries(options.services ?? {}).map(
      ([name, command]) => `${name}.command = ${JSON.stringify(command)}`,
    ),
    "",
  ].join("\n");
  const lock = {
    "lockfile-version": 1,
    manifest,
    packages: packages.map((pkg) =>
      lockEntry(pkg.installId, pkg.path, {
        installId: pkg.installId,
        priority: pkg.priority ?? 5,
        ...(pkg.outputs === undefined ? {} : { outputs: pkg.outputs }),
        ...(pkg.outputsToInstall === undefined ? {} : { outputsToInstall: pkg.outputsToInstall }),
      }),
    ),
  };
  return { manifestToml: toml, lock };
}

/**
 * The generation most suites need: a `hello` (the fixture `hello`, or another version such as
 * `hello2`) and `coreutils` (sh, env, sleep … for commands and ExecSync).
 */
export function helloGeneration(
  packages: { readonly hello: StorePath; readonly coreutils: StorePath },
  options: { vars?: Record<string, string>; hook?: string } = {},
): { manifestToml: string; lock: object } {
  return fixtureGeneration(
    [
      { installId: "hello", path: packages.hello },
      { installId: "coreutils", path: packages.coreutils },
    ],
    options,
  );
}
