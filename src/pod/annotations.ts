/**
 * Every annotation key the runtime reads or writes. No other file spells `flox.dev/…` or
 * `io.kubernetes.cri.…`: this is the one place to learn the contract (SPEC §2, §6).
 */
export const Annotation = {
  /** `owner/name` or `owner/name:N` (N ≥ 1); without it the container runs unmodified. */
  environment: "flox.dev/environment",
  /** `run` (default) or `dev`: dev also sets development variables (CPATH, PKG_CONFIG_PATH, …). */
  activateMode: "flox.dev/activate-mode",
  /** `true`/`false` (default): `true` makes `/nix` a private copy-on-write overlay. */
  nixMutable: "flox.dev/nix-mutable",
  /** `true`/`false` (default): `true` records no telemetry and sets FLOX_DISABLE_METRICS=true. */
  disableMetrics: "flox.dev/disable-metrics",
  /** Comma-separated container names left exactly as plain runc would run them. */
  skipContainers: "flox.dev/skip-containers",
  /** Comma-separated container names whose exec and exec probes run outside the environment. */
  skipContainersExec: "flox.dev/skip-containers-exec",
  /** Written by the runtime into the edited spec: the generation it resolved (decimal). */
  resolvedGeneration: "flox.dev/resolved-generation",
  /** Written by the runtime into the edited spec: the environment's store path ($FLOX_ENV). */
  resolvedStorePath: "flox.dev/resolved-store-path",
} as const;

/**
 * The glob containerd's `pod_annotations` / `container_annotations` take to pass every `flox.dev/…`
 * annotation into the OCI spec (Go's path.Match: `*` stops at `/`, so a bare `*` would miss them).
 */
export const FLOX_ANNOTATION_GLOB = "flox.dev/*";

/** Annotations containerd's CRI plugin sets on every spec it writes. */
export const CriAnnotation = {
  /** `sandbox` for the pause container, `container` for the others. */
  containerType: "io.kubernetes.cri.container-type",
  /** The container's name in the pod spec (init containers too). */
  containerName: "io.kubernetes.cri.container-name",
  sandboxId: "io.kubernetes.cri.sandbox-id",
  sandboxName: "io.kubernetes.cri.sandbox-name",
  sandboxNamespace: "io.kubernetes.cri.sandbox-namespace",
} as const;

export const CriContainerType = { sandbox: "sandbox", container: "container" } as const;
