import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { ActivationInput } from "../environment/activation.js";
import { computeActivation } from "../environment/activation.js";
import {
  type Lockfile,
  parseLockfile,
  type SelectedPackage,
  selectPackages,
} from "../environment/lockfile.js";
import { manifestFromLock } from "../environment/manifest.js";
import { ImagelessError } from "../errors/imageless-error.js";
import type { ResolvedEnvironment } from "../floxhub/resolve.js";
import type { Logger } from "../log/logger.js";
import type { Secret } from "../log/secret.js";
import type { StorePath } from "../nix/store-path.js";
import { activateProcess } from "../oci/modifiers/activate-process.js";
import { ENV_CACHE_MOUNT_POINT, mountEnvCache } from "../oci/modifiers/env-cache.js";
import { mountStore } from "../oci/modifiers/mount-store.js";
import { addAnnotations } from "../oci/modifiers/record-resolution.js";
import { applyModifiers, type OciSpec, type SpecModifier } from "../oci/spec.js";
import { Annotation } from "../pod/annotations.js";
import type { EnvironmentRef } from "../pod/environment-ref.js";
import { formatEnvironmentRef } from "../pod/environment-ref.js";
import { type ContainerPolicy, parsePodPolicy } from "../pod/policy.js";
import type { NodeConfig } from "./config.js";
import { type ContainerRecord, saveContainerRecord, statePaths } from "./container-state.js";

/** The edges the start pipeline touches, passed in so the same code runs in the wrapper or an agent. */
export interface StartDeps {
  readonly config: NodeConfig;
  readonly log: Logger;
  /** Nix system of this node, e.g. `x86_64-linux`. */
  readonly system: string;
  readonly readToken: (spec: OciSpec) => Promise<Secret | undefined>;
  readonly resolve: (ref: EnvironmentRef, token: Secret | undefined) => Promise<ResolvedEnvironment>;
  readonly realise: (paths: readonly StorePath[]) => Promise<{ substituted: readonly StorePath[] }>;
  readonly buildProfile: (packages: readonly SelectedPackage[], name: string) => Promise<StorePath>;
  readonly addGcRoot: (path: StorePath, link: string) => Promise<void>;
  readonly now: () => number;
}

export type CreateOutcome =
  | { readonly kind: "unmodified"; readonly spec: OciSpec; readonly reason: string }
  | {
      readonly kind: "flox";
      readonly spec: OciSpec;
      readonly record: ContainerRecord;
      readonly policy: Extract<ContainerPolicy, { kind: "flox" }>;
      /** What this start measured, for logs and telemetry (durations in ms). */
      readonly stats: StartStats;
    };

export interface StartStats {
  readonly live: boolean;
  readonly cacheHit: boolean;
  readonly fetched: boolean;
  readonly resolveMs: number;
  readonly realiseMs: number;
  readonly buildMs: number;
  readonly totalMs: number;
}

/**
 * The start of one container (SPEC §4–§6), top to bottom: policy → token → resolve → realise →
 * build → activation → spec edits. Returns the spec runc must run; the caller writes it.
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
  const policy = parsePodPolicy(annotations);
  if (policy.kind === "unmodified") return { kind: "unmodified", spec, reason: policy.reason };

  const started = deps.now();
  const ref = formatEnvironmentRef(policy.ref);
  const token = await deps.readToken(spec);
  const resolved = await deps.resolve(policy.ref, token);
  const resolvedAt = deps.now();

  const lock = parseLockfile(resolved.lockText, `${ref} generation ${resolved.generation} manifest.lock`);
  const packages = selectPackages(lock, deps.system);
  const { substituted } = await deps.realise(packages.flatMap((pkg) => Object.values(pkg.outputs)));
  const realisedAt = deps.now();

  const storePath = await deps.buildProfile(packages, `flox-env-${policy.mode}`);
  const paths = statePaths(deps.config.runtime.stateDir, containerId);
  await deps.addGcRoot(storePath, paths.gcRoot);
  const builtAt = deps.now();

  const activation = activationInput(policy, lock, storePath, resolved.generation, deps.config);
  const cwd = typeof spec.process?.cwd === "string" ? spec.process.cwd : "/";
  const { env, needsShell } = computeActivation(activation, spec.process?.env ?? [], cwd);
  if (needsShell) {
    throw new ImagelessError(
      "unsupported",
      `environment ${ref} generation ${resolved.generation} has a hook or shell-only [vars]: running them in bash is not supported by this version yet`,
    );
  }
  await mkdir(paths.envCache, { recursive: true, mode: 0o755 });

  const modifiers: SpecModifier[] = [
    mountStore(join(deps.config.nix.storeRoot, "nix")),
    mountEnvCache(paths.envCache),
    activateProcess(env),
    addAnnotations({
      [Annotation.resolvedGeneration]: String(resolved.generation),
      [Annotation.resolvedStorePath]: storePath,
    }),
  ];
  const record: ContainerRecord = {
    version: 1,
    containerId,
    containerName: policy.containerName,
    environment: `${policy.ref.owner}/${policy.ref.name}`,
    generation: resolved.generation,
    storePath,
    skipExec: policy.skipExec,
    activation,
    createdAt: new Date(started).toISOString(),
  };
  await saveContainerRecord(deps.config.runtime.stateDir, record);
  const stats: StartStats = {
    live: resolved.live,
    cacheHit: substituted.length === 0,
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
    ...stats,
  });
  return { kind: "flox", spec: applyModifiers(spec, modifiers), record, policy, stats };
}

function activationInput(
  policy: Extract<ContainerPolicy, { kind: "flox" }>,
  lock: Lockfile,
  floxEnv: StorePath,
  generation: number,
  config: NodeConfig,
): ActivationInput {
  const manifest = manifestFromLock(lock);
  return {
    floxEnv,
    owner: policy.ref.owner,
    name: policy.ref.name,
    generation,
    mode: policy.mode,
    floxhubUrl: config.floxhub.url,
    vars: manifest.vars,
    ...(manifest.hook.onActivate === undefined ? {} : { hook: manifest.hook.onActivate }),
    envCache: ENV_CACHE_MOUNT_POINT,
    disableMetrics: policy.disableMetrics,
  };
}
