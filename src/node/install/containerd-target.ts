import { posix } from "node:path";
import { ImagelessError } from "../../errors/imageless-error.js";
import {
  addFloxRuntime,
  type ConfigSchema,
  configSchema,
  defaultRuntimeOptions,
  definesCriPlugin,
  floxRuntimeTable,
  parseContainerdConfig,
} from "./containerd-config-edit.js";

/** A file as read from the host: `text` undefined when it does not exist. Paths are host paths. */
export interface HostFile {
  readonly path: string;
  readonly text: string | undefined;
}

/** What detection found on the node (detect.ts); the decisions below take only this. */
export type ContainerdFacts =
  | {
      readonly flavour: "containerd";
      /** `1.6.20`; undefined when no containerd binary answered `--version`. */
      readonly version: string | undefined;
      readonly config: HostFile;
      /** The files `imports` names, in containerd's merge order (later wins). */
      readonly dropIns: readonly HostFile[];
    }
  | {
      readonly flavour: "k3s";
      readonly version: string | undefined;
      /** The config k3s renders (`…/agent/etc/containerd/config.toml`): read for its schema and options. */
      readonly rendered: HostFile;
      /** `config.toml.tmpl` (or `config-v3.toml.tmpl` for a version 3 render) beside it. */
      readonly template: HostFile;
    };

/** The one file install edits, before and after. */
export interface ContainerdEdit {
  readonly path: string;
  readonly before: string | undefined;
  readonly after: string;
  readonly schema: ConfigSchema;
  /** Why this file (e.g. "the drop-in that holds the CRI plugin"), for the user. */
  readonly why: string;
}

/** k3s renders its template from this first line onwards when the template starts with it (k3s ≥ Sept 2023). */
export const K3S_BASE_TEMPLATE = '{{ template "base" . }}\n';

/**
 * `containerd --version` output → `major.minor.patch`, or undefined. Handles upstream
 * (`containerd github.com/containerd/containerd v1.7.2 …`), Debian (`… 1.6.20~ds1 …`), Docker's
 * (`containerd containerd.io 1.6.21 …`) and k3s's (`… v1.7.11-k3s2 …`) forms. Pure.
 */
export function parseContainerdVersion(output: string): string | undefined {
  const match = /(?:^|\s)v?(\d+\.\d+\.\d+)/.exec(output);
  return match?.[1];
}

/** The major version of `1.6.20`, or undefined. */
export function majorOf(version: string | undefined): number | undefined {
  if (version === undefined) return undefined;
  const major = Number.parseInt(version, 10);
  return Number.isInteger(major) ? major : undefined;
}

/** The k3s template file for a rendered config of `schema` (k3s with containerd 2.x renders version 3). */
export function k3sTemplatePath(renderedPath: string, schema: ConfigSchema): string {
  return posix.join(posix.dirname(renderedPath), schema === 3 ? "config-v3.toml.tmpl" : "config.toml.tmpl");
}

/**
 * Decides which file gets the flox runtime and what it then says. Pure.
 *
 * - plain containerd: the main config, unless an `imports` drop-in sets the CRI plugin; containerd
 *   1.x then replaces the whole plugin section with the drop-in's (nvidia-container-toolkit writes
 *   such a drop-in), so the runtime goes into the last one that does, where it survives the merge;
 * - a missing main config is created as `version = N` plus the runtime (every other key keeps its
 *   default, as without a file);
 * - k3s: the template beside the rendered config, created as `{{ template "base" . }}` plus the
 *   runtime when absent.
 *
 * @throws {ImagelessError} for an unsupported schema, TOML that does not parse, a foreign `flox`
 * runtime, or an edit that would not read back as the flox runtime
 */
export function planContainerdEdit(facts: ContainerdFacts, binaryName: string): ContainerdEdit {
  const major = majorOf(facts.version);
  if (facts.flavour === "k3s") {
    const rendered = parseContainerdConfig(facts.rendered.text ?? "", facts.rendered.path);
    const schema = configSchema(rendered, major, facts.rendered.path);
    const runtime = { schema, binaryName, inheritedOptions: defaultRuntimeOptions(rendered, schema) };
    const base = facts.template.text ?? K3S_BASE_TEMPLATE;
    return {
      path: facts.template.path,
      before: facts.template.text,
      after: addFloxRuntime(base, runtime, facts.template.path),
      schema,
      why: "k3s renders containerd's config from this template",
    };
  }
  const main = parseContainerdConfig(facts.config.text ?? "", facts.config.path);
  if (facts.config.text === undefined && major === undefined) {
    throw new ImagelessError(
      "failed-precondition",
      `containerd config ${facts.config.path} does not exist and \`containerd --version\` did not answer, so the config version is unknown: pass --containerd-config with the file containerd reads`,
    );
  }
  const schema = configSchema(main, major, facts.config.path);
  const holders = facts.dropIns
    .filter((file) => file.text !== undefined)
    .map((file) => ({ file, parsed: parseContainerdConfig(file.text ?? "", file.path) }))
    .filter(({ parsed }) => definesCriPlugin(parsed, schema));
  const holder = holders.at(-1);
  const target = holder?.file ?? facts.config;
  const parsed = holder?.parsed ?? main;
  const runtime = { schema, binaryName, inheritedOptions: defaultRuntimeOptions(parsed, schema) };
  const base = target.text ?? `version = ${schema}\n`;
  const after = addFloxRuntime(base, runtime, target.path);
  assertReadsBack(after, schema, binaryName, target.path);
  return {
    path: target.path,
    before: target.text,
    after,
    schema,
    why:
      holder === undefined
        ? "containerd's config"
        : "the imported drop-in that holds the CRI plugin section (containerd 1.x replaces the section with the last file that sets it)",
  };
}

/** The edited text must parse and name the wrapper, or containerd would refuse to start. */
function assertReadsBack(text: string, schema: ConfigSchema, binaryName: string, source: string): void {
  let options: unknown;
  try {
    options = floxRuntimeTable(parseContainerdConfig(text, source), schema)?.["options"];
  } catch (error) {
    throw new ImagelessError(
      "failed-precondition",
      `containerd config ${source}: adding the flox runtime would make it invalid TOML (e.g. the runtimes table is an inline table): add the table by hand (docs/install.md)`,
      { cause: error },
    );
  }
  const readBack =
    typeof options === "object" && options !== null && "BinaryName" in options
      ? options.BinaryName
      : undefined;
  if (readBack !== binaryName) {
    throw new ImagelessError(
      "failed-precondition",
      `containerd config ${source}: after adding the flox runtime, containerd would not read it back: add the table by hand (docs/install.md)`,
    );
  }
}
