import { ImagelessError } from "../errors/imageless-error.js";
import { type EnvironmentRef, parseEnvironmentRef as parseRef } from "../names/environment-names.js";
import { Annotation, CriAnnotation, CriContainerType } from "./annotations.js";

export type ActivateMode = "run" | "dev";

/** What the runtime does with one container, decided from its spec annotations alone. */
export type ContainerPolicy =
  | { readonly kind: "unmodified"; readonly reason: UnmodifiedReason }
  | {
      readonly kind: "flox";
      readonly containerName: string;
      readonly ref: EnvironmentRef;
      /**
       * From `flox.dev/activate-mode`; absent when the pod does not set it, and then the manifest's
       * `options.activate.mode` decides (see {@link resolveActivateMode}).
       */
      readonly mode?: ActivateMode;
      readonly nixMutable: boolean;
      readonly disableMetrics: boolean;
      /** exec and exec probes run outside the environment (flox.dev/skip-containers-exec). */
      readonly skipExec: boolean;
    };

export type UnmodifiedReason = "sandbox" | "no-environment" | "skipped";

/**
 * Decides how a container runs from the annotations containerd copied into its OCI spec (SPEC §2).
 * Pure: the same annotations always give the same policy.
 *
 * @throws {ImagelessError} kind "invalid-input" naming the annotation, the value and what is accepted.
 * @example
 * parsePodPolicy({ "io.kubernetes.cri.container-type": "container", "io.kubernetes.cri.container-name": "app",
 *   "flox.dev/environment": "acme/web:3" }); // { kind: "flox", ref: { owner: "acme", name: "web", generation: 3 }, … }
 */
export function parsePodPolicy(annotations: Readonly<Record<string, string>>): ContainerPolicy {
  // The pause container is never touched: it must come up exactly as with runc.
  if (annotations[CriAnnotation.containerType] === CriContainerType.sandbox) {
    return { kind: "unmodified", reason: "sandbox" };
  }
  const environment = annotations[Annotation.environment];
  if (environment === undefined) return { kind: "unmodified", reason: "no-environment" };

  const containerName = annotations[CriAnnotation.containerName] ?? "";
  const skipped = parseContainerList(annotations[Annotation.skipContainers]);
  if (skipped.has(containerName)) return { kind: "unmodified", reason: "skipped" };
  const skipExec = parseContainerList(annotations[Annotation.skipContainersExec]);

  const mode = parseActivateMode(annotations[Annotation.activateMode]);
  return {
    kind: "flox",
    containerName,
    ref: parseEnvironmentRef(environment),
    ...(mode === undefined ? {} : { mode }),
    nixMutable: parseBoolean(Annotation.nixMutable, annotations[Annotation.nixMutable]),
    disableMetrics: parseBoolean(Annotation.disableMetrics, annotations[Annotation.disableMetrics]),
    skipExec: skipExec.has(containerName),
  };
}

/**
 * Parses the `flox.dev/environment` annotation: `owner/name` or `owner/name:N` (src/names has the rule).
 *
 * @throws {ImagelessError} kind "invalid-input" naming the annotation, the value and what is accepted.
 */
export function parseEnvironmentRef(value: string): EnvironmentRef {
  return parseRef(value, `annotation ${Annotation.environment}`, { generation: true });
}

/**
 * The mode a container activates in: the pod's `flox.dev/activate-mode`, else the manifest's
 * `[options] activate.mode`, else `run` (a pod's default; Flox's CLI defaults to `dev`). Pure.
 *
 * @example
 * resolveActivateMode(undefined, "dev"); // "dev"
 * resolveActivateMode("run", "dev"); // "run"
 */
export function resolveActivateMode(
  annotation: ActivateMode | undefined,
  manifest: ActivateMode | undefined,
): ActivateMode {
  return annotation ?? manifest ?? "run";
}

function parseActivateMode(value: string | undefined): ActivateMode | undefined {
  if (value === undefined) return undefined;
  const mode = value.trim().toLowerCase();
  if (mode === "run" || mode === "dev") return mode;
  throw new ImagelessError(
    "invalid-input",
    `annotation ${Annotation.activateMode}: cannot use ${JSON.stringify(value)}: accepted values are "run" and "dev"`,
  );
}

/** `true`/`false`, case-insensitive, surrounding spaces ignored; absent means false. */
function parseBoolean(annotation: string, value: string | undefined): boolean {
  if (value === undefined) return false;
  const normalised = value.trim().toLowerCase();
  if (normalised === "true") return true;
  if (normalised === "false") return false;
  throw new ImagelessError(
    "invalid-input",
    `annotation ${annotation}: cannot use ${JSON.stringify(value)}: accepted values are "true" and "false"`,
  );
}

/** Comma-separated container names: spaces trimmed, empty items ignored. */
function parseContainerList(value: string | undefined): ReadonlySet<string> {
  if (value === undefined) return new Set();
  return new Set(
    value
      .split(",")
      .map((item) => item.trim())
      .filter((item) => item.length > 0),
  );
}
