import type { ActivationDefaults, ActivationInput, DevLayout } from "../environment/activation.js";
import { computeActivation } from "../environment/activation.js";
import {
  ACTIVATE_SCRIPT,
  type ActivationFile,
  activationFiles,
  hasHook,
  varsNeedingShell,
} from "../environment/hook-script.js";
import {
  manifestFromLock,
  parseLockfile,
  type SelectedPackage,
  selectPackages,
} from "../environment/lockfile.js";
import type { Manifest } from "../environment/manifest.js";
import { type ProfileLink, profileLinks, propagatedLinks } from "../environment/profile-links.js";
import { serviceNames, servicesWarning } from "../environment/services.js";
import type { ResolvedEnvironment } from "../floxhub/resolve.js";
import type { Logger } from "../log/logger.js";
import type { Secret } from "../log/secret.js";
import type { EnvironmentRef } from "../names/environment-names.js";
import { formatEnvironmentRef } from "../names/environment-names.js";
import type { RealiseProgress } from "../nix/realise.js";
import type { StorePath } from "../nix/store-path.js";
import { ACTIVATION_RECORD, ENV_CACHE_MOUNT_POINT } from "../oci/modifiers/env-cache.js";
import { applyModifiers, type OciSpec } from "../oci/spec.js";
import { Annotation } from "../pod/annotations.js";
import {
  type ActivateMode,
  type ContainerPolicy,
  parsePodPolicy,
  resolveActivateMode,
} from "../pod/policy.js";
import { locateDefaults } from "./activation-defaults.js";
import type { NodeConfig } from "./config.js";
import { type ActivationShell, type ContainerRecord, statePaths } from "./container-state.js";
import { profileKey } from "./profile-cache.js";
import type { ProfileFacts } from "./profile-facts.js";
import type { LocatedBash } from "./shell.js";
import { specEdits } from "./spec-edits.js";
import { type PreparedStoreMount, storePathOf } from "./store-mount.js";

/**
 * Every edge the start pipeline touches — hub, Nix, the node's state directory and store — passed in
 * so the same code runs in the wrapper or the agent, and in tests with in-memory edges.
 * {@link prepareContainer} does no IO of its own: each file, process or request is one of these.
 * `src/node/node-deps.ts` wires the real ones.
 */
export interface StartDeps {
  /** Read as data only (paths, modes, URLs); the pipeline never reads files it names itself. */
  readonly config: NodeConfig;
  readonly log: Logger;
  /** Nix system of this node, e.g. `x86_64-linux`. */
  readonly system: string;
  readonly readToken: (spec: OciSpec) => Promise<Secret | undefined>;
  readonly resolve: (ref: EnvironmentRef, token: Secret | undefined) => Promise<ResolvedEnvironment>;
  /**
   * Makes `paths` valid in the node store. For an environment (`forEnv`) its owner's hub cache comes
   * first and the container's token goes to that cache only; without it, `[nix] substituters` only.
   */
  readonly realise: (
    paths: readonly StorePath[],
    forEnv?: { readonly owner: string; readonly token: Secret | undefined },
    onProgress?: (progress: RealiseProgress) => void,
  ) => Promise<{ substituted: readonly StorePath[] }>;
  /** Builds the profile of `links`, with generated files linked at top priority. */
  readonly buildProfile: (
    links: readonly ProfileLink[],
    name: string,
    extraFiles: Readonly<Record<string, ActivationFile>>,
  ) => Promise<StorePath>;
  /**
   * A profile built earlier with the same {@link profileKey}, still in the store; its GC roots kept its
   * packages, so a hit needs neither realisation nor a build.
   */
  readonly cachedProfile: (key: string) => Promise<StorePath | undefined>;
  readonly rememberProfile: (key: string, path: StorePath) => Promise<void>;
  /**
   * Dev mode: `nix-support/propagated-build-inputs` of `paths` and, recursively, of every path they
   * name, read from the node store (path → the paths its file lists; see `propagatedLinks`).
   */
  readonly propagatedInputs: (paths: readonly StorePath[]) => Promise<Map<string, string[]>>;
  /**
   * Marks the container as being created by this process (`statePaths(…).claim`), before its first
   * GC root: a create killed later is found by its claim and swept. The caller releases it.
   */
  readonly claim: (containerId: string) => Promise<void>;
  readonly addGcRoot: (path: StorePath, link: string) => Promise<void>;
  /** For the caller's sweep of abandoned creates (create.ts); the pipeline itself uses `dropState`. */
  readonly removeGcRoot: (link: string) => Promise<void>;
  /** What activation needs to know about a built profile (its dev layout, CA bundle, locales). */
  readonly profileFacts: (profile: StorePath) => Promise<ProfileFacts>;
  /**
   * The bash that runs the activation script: a package output's, else one in `profile`'s closure,
   * else `[runtime] shell` (realised). Throws the line naming `why` when there is none.
   */
  readonly locateBash: (
    outputs: readonly StorePath[],
    profile: StorePath,
    why: string,
  ) => Promise<LocatedBash>;
  /** Creates `$FLOX_ENV_CACHE` on the node (`dir`), owned by the process's user; `pip.ini` when asked. */
  readonly prepareEnvCache: (
    dir: string,
    process: NonNullable<OciSpec["process"]>,
    options: { readonly pipConfig: boolean },
  ) => Promise<void>;
  /** Makes what the container's `/nix` needs on the node: overlay layers, a closure skeleton. */
  readonly prepareStoreMount: (input: {
    readonly containerId: string;
    readonly mode: NodeConfig["runtime"]["mount"];
    readonly nixMutable: boolean;
    /** The store paths the container runs: the profile, and a bash from the config if one is used. */
    readonly roots: readonly StorePath[];
  }) => Promise<PreparedStoreMount>;
  /** Writes the record exec and delete read back. */
  readonly saveRecord: (record: ContainerRecord) => Promise<void>;
  /** Removes every piece of node state the container may have: GC roots, record, claim, directories. */
  readonly dropState: (containerId: string) => Promise<void>;
  readonly now: () => number;
}

export type CreateOutcome =
  | { readonly kind: "unmodified"; readonly spec: OciSpec; readonly reason: string }
  | {
      readonly kind: "flox";
      readonly spec: OciSpec;
      readonly record: ContainerRecord;
      /** The pod's policy, with `mode` resolved (annotation, else manifest, else run). */
      readonly policy: Extract<ContainerPolicy, { kind: "flox" }> & { readonly mode: ActivateMode };
      /** What this start measured, for logs and telemetry (durations in ms). */
      readonly stats: StartStats;
      /** Lines for the container's own log (the wrapper writes them to the stderr runc hands on). */
      readonly containerWarnings: readonly string[];
    };

export interface StartStats {
  readonly live: boolean;
  /** Nothing was downloaded for this start. */
  readonly cacheHit: boolean;
  /** The built profile was reused without asking Nix (see profile-cache.ts). */
  readonly profileReused: boolean;
  readonly fetched: boolean;
  readonly resolveMs: number;
  readonly realiseMs: number;
  readonly buildMs: number;
  readonly totalMs: number;
}

/**
 * The start of one container (SPEC §4–§6), top to bottom: policy → token → resolve → realise →
 * build → claim + GC root → profile facts → activation → bash → env cache → `/nix` → spec edits
 * ({@link specEdits}, pure) → record. Returns the spec runc must run; the caller writes it. Every
 * file, process and request goes through `deps`; a failure after the claim drops what was made.
 *
 * @throws {ImagelessError} with the line the user sees in `kubectl describe pod`.
 */
export async function prepareContainer(
  containerId: string,
  spec: OciSpec,
  deps: StartDeps,
): Promise<CreateOutcome> {
  const annotations = spec.annotations ?? {};
  // A spec this runtime already edited (runc create retried on the same bundle) runs as it is.
  if (annotations[Annotation.resolvedStorePath] !== undefined) {
    return { kind: "unmodified", spec, reason: "already-prepared" };
  }
  const podPolicy = parsePodPolicy(annotations);
  if (podPolicy.kind === "unmodified") return { kind: "unmodified", spec, reason: podPolicy.reason };

  const started = deps.now();
  const ref = formatEnvironmentRef(podPolicy.ref);
  const token = await deps.readToken(spec);
  const resolved = await deps.resolve(podPolicy.ref, token);
  const resolvedAt = deps.now();

  const lock = parseLockfile(resolved.lockText, `${ref} generation ${resolved.generation} manifest.lock`);
  const manifest = manifestFromLock(lock);
  const policy = { ...podPolicy, mode: resolveActivateMode(podPolicy.mode, manifest.options.activateMode) };
  const packages = selectPackages(lock, deps.system);
  const links = profileLinks(packages);
  const files = activationFiles({
    vars: manifest.vars,
    ...hookOf(manifest),
    profileScripts: policy.mode === "dev",
  });
  const profileName = `flox-env-${policy.mode}`;
  const key = profileKey(links, profileName, files);
  const cached = await deps.cachedProfile(key);
  const { substituted } =
    cached === undefined
      ? await deps.realise(
          links.flatMap((link) => link.paths),
          { owner: policy.ref.owner, token },
          (progress) => logRealiseProgress(deps.log, { container: containerId, env: ref }, progress),
        )
      : { substituted: [] };
  const realisedAt = deps.now();

  const storePath =
    cached ??
    (await deps.buildProfile(
      policy.mode === "dev" ? [...links, ...(await devPropagated(links, packages, deps))] : links,
      profileName,
      files,
    ));
  const paths = statePaths(deps.config.runtime.stateDir, containerId);
  // From the first GC root on, a failed start must not leave state behind that nothing releases; a
  // killed one is found by its claim (released by the caller once the spec is written) and swept.
  await deps.claim(containerId);
  try {
    await deps.addGcRoot(storePath, paths.gcRoot);
    // Remembered only once a root holds it: until then the collector could take it.
    if (cached === undefined) await deps.rememberProfile(key, storePath);
    const builtAt = deps.now();

    const facts = await deps.profileFacts(storePath);
    const devLayout = facts.devLayout;
    const defaults = await activationDefaults(facts.defaults, deps, paths);
    const activation = activationInput(policy, manifest, storePath, resolved, deps.config, {
      devLayout,
      defaults,
    });
    const ociProcess = spec.process ?? {};
    const cwd = typeof ociProcess.cwd === "string" ? ociProcess.cwd : "/";
    const { env, needsShell } = computeActivation(activation, ociProcess.env ?? [], cwd);
    // Only an environment that needs bash (a hook, shell-only [vars], dev-mode profile.d) gets one.
    const why = shellReason(`${policy.ref.owner}/${policy.ref.name}`, resolved.generation, manifest, {
      profileScripts: policy.mode === "dev" && (devLayout.profileScripts ?? []).length > 0,
    });
    const shell =
      needsShell && ACTIVATE_SCRIPT in files
        ? await activationShell(storePath, packages, why, { deps, shellGcRoot: paths.shellGcRoot })
        : undefined;
    await deps.prepareEnvCache(paths.envCache, ociProcess, {
      pipConfig: policy.mode === "dev" && devLayout.pip3 === true,
    });
    const containerWarnings = unsupportedServicesWarning(manifest, deps.log, containerId);
    const shellPath = shell === undefined ? undefined : storePathOf(shell.bash);
    const nixMount = await deps.prepareStoreMount({
      containerId,
      mode: deps.config.runtime.mount,
      nixMutable: policy.nixMutable,
      roots: shellPath === undefined ? [storePath] : [storePath, shellPath],
    });
    const edits = specEdits({
      containerId,
      stateDir: deps.config.runtime.stateDir,
      storeRoot: deps.config.nix.storeRoot,
      storeMount: nixMount,
      nixMutable: policy.nixMutable,
      envCache: paths.envCache,
      env,
      args: ociProcess.args ?? [],
      ...(shell === undefined ? {} : { shell }),
      generation: resolved.generation,
      storePath,
    });
    const record: ContainerRecord = {
      version: 1,
      containerId,
      containerName: policy.containerName,
      environment: `${policy.ref.owner}/${policy.ref.name}`,
      generation: resolved.generation,
      storePath,
      skipExec: policy.skipExec,
      activation,
      ...(shell === undefined ? {} : { shell }),
      nixMutable: policy.nixMutable,
      createdAt: new Date(started).toISOString(),
    };
    await deps.saveRecord(record);
    const stats: StartStats = {
      live: resolved.live,
      cacheHit: substituted.length === 0,
      profileReused: cached !== undefined,
      fetched: resolved.fetched,
      resolveMs: resolvedAt - started,
      realiseMs: realisedAt - resolvedAt,
      buildMs: builtAt - realisedAt,
      totalMs: deps.now() - started,
    };
    deps.log.info("start.prepared", {
      container: containerId,
      env: ref,
      generation: resolved.generation,
      substituted: substituted.length,
      storePath,
      mode: policy.mode,
      mutable: policy.nixMutable,
      shell: shell?.bash,
      ...stats,
    });
    return { kind: "flox", spec: applyModifiers(spec, edits), record, policy, stats, containerWarnings };
  } catch (error) {
    await deps
      .dropState(containerId)
      .catch((cleanup: unknown) =>
        deps.log.warn("start.cleanup-failed", { container: containerId, error: String(cleanup) }),
      );
    throw error;
  }
}

/**
 * The node log's progress of a first start (docs/architecture.md): `realise.started` once with what
 * Nix will fetch, then `realise.path` per path copied; `imageless pod run` shows them. Store paths
 * and sizes only: no token or cache credential is ever part of Nix's progress lines.
 */
function logRealiseProgress(
  log: Logger,
  start: { readonly container: string; readonly env: string },
  progress: RealiseProgress,
): void {
  if (progress.kind === "plan") {
    const { kind: _, ...plan } = progress;
    log.info("realise.started", { ...start, ...plan });
  } else {
    log.info("realise.path", { ...start, path: progress.path });
  }
}

/**
 * What dev mode links besides the packages: the paths they propagate (nix-support/propagated-build-
 * inputs, recursively), read from the node store now that the packages are realised.
 */
async function devPropagated(
  links: readonly ProfileLink[],
  packages: readonly SelectedPackage[],
  deps: StartDeps,
): Promise<ProfileLink[]> {
  const propagated = await deps.propagatedInputs(links.flatMap((link) => link.paths));
  // Flox's counter has already numbered lockfile v1's other outputs; continue after them.
  const counted = packages.reduce((n, pkg) => n + Object.keys(pkg.outputPriorities ?? {}).length, 0);
  return propagatedLinks(links, propagated, counted);
}

/**
 * The envrc defaults, rooting what came from the node config for as long as the container runs.
 * `locateDefaults` is a decision plus `deps.realise` for a configured path: no IO of its own.
 */
async function activationDefaults(
  fromEnvironment: ActivationDefaults,
  deps: StartDeps,
  paths: ReturnType<typeof statePaths>,
): Promise<ActivationDefaults> {
  const { defaults, configPaths } = await locateDefaults(fromEnvironment, {
    configCacert: deps.config.runtime.cacert,
    configLocales: deps.config.runtime.locales,
    realise: deps.realise,
  });
  if (configPaths.cacert !== undefined) await deps.addGcRoot(configPaths.cacert, paths.cacertGcRoot);
  if (configPaths.locales !== undefined) await deps.addGcRoot(configPaths.locales, paths.localesGcRoot);
  return defaults;
}

/**
 * `[services]` are not run by this runtime (SPEC §11): the command starts anyway, and one warning
 * line for the container's log (and the node log) names the services that were not started.
 */
function unsupportedServicesWarning(manifest: Manifest, log: Logger, containerId: string): string[] {
  const names = serviceNames(manifest);
  if (names.length === 0) return [];
  log.warn("start.services-not-started", { container: containerId, services: names.join(",") });
  return [servicesWarning(names)];
}

/** The bash and script that activate this container, with a GC root for a bash from the config. */
async function activationShell(
  profile: StorePath,
  packages: readonly SelectedPackage[],
  why: string,
  ctx: { deps: StartDeps; shellGcRoot: string },
): Promise<ActivationShell> {
  const { deps } = ctx;
  const outputs = packages.flatMap((pkg) => [
    ...new Set([...Object.values(pkg.outputs), ...Object.values(pkg.allOutputs)]),
  ]);
  const located = await deps.locateBash(outputs, profile, why);
  // The environment's closure keeps its own bash alive; a configured one needs a root of its own.
  if (located.configStorePath !== undefined) await deps.addGcRoot(located.configStorePath, ctx.shellGcRoot);
  return { bash: located.bash, script: `${profile}/${ACTIVATE_SCRIPT}`, record: ACTIVATION_RECORD };
}

/** Names what makes the environment need bash, for the error when none is found. */
function shellReason(
  ref: string,
  generation: number,
  manifest: Manifest,
  options: { readonly profileScripts: boolean },
): string {
  const vars = varsNeedingShell(manifest.vars);
  const what = [
    ...(hasHook(manifest.hook.onActivate) ? ["hook.on-activate"] : []),
    ...(vars.length > 0 ? [`[vars] ${vars.join(", ")}`] : []),
    ...(options.profileScripts ? ["the packages' profile.d scripts in dev mode"] : []),
  ];
  return `environment ${ref} generation ${generation} (${what.join(" and ")})`;
}

function hookOf(manifest: Manifest): { hook?: string } {
  return manifest.hook.onActivate === undefined ? {} : { hook: manifest.hook.onActivate };
}

function activationInput(
  policy: Extract<ContainerPolicy, { kind: "flox" }> & { readonly mode: ActivateMode },
  manifest: Manifest,
  floxEnv: StorePath,
  resolved: ResolvedEnvironment,
  config: NodeConfig,
  probed: { readonly devLayout: DevLayout; readonly defaults: ActivationDefaults },
): ActivationInput {
  return {
    floxEnv,
    owner: policy.ref.owner,
    name: policy.ref.name,
    generation: resolved.generation,
    pinned: policy.ref.generation !== undefined,
    mode: policy.mode,
    floxhubUrl: config.floxhub.url,
    vars: manifest.vars,
    ...hookOf(manifest),
    envCache: ENV_CACHE_MOUNT_POINT,
    disableMetrics: policy.disableMetrics,
    devLayout: probed.devLayout,
    defaults: probed.defaults,
  };
}
