import { shellArgs } from "../environment/hook-script.js";
import type { StorePath } from "../nix/store-path.js";
import { activateProcess } from "../oci/modifiers/activate-process.js";
import { ACTIVATION_RECORD, mountEnvCache } from "../oci/modifiers/env-cache.js";
import { addAnnotations } from "../oci/modifiers/record-resolution.js";
import type { SpecModifier } from "../oci/spec.js";
import { Annotation } from "../pod/annotations.js";
import type { ActivationShell } from "./container-state.js";
import { overlayDirs, type PreparedStoreMount, storeMountModifier } from "./store-mount.js";

/** Everything that decides how a Flox container's spec is edited, known once the start's IO is done. */
export interface SpecEditInputs {
  readonly containerId: string;
  readonly stateDir: string;
  /** The node store root (`/` for the host store). */
  readonly storeRoot: string;
  /** What the node prepared for `/nix` (whole store or closure skeleton). */
  readonly storeMount: PreparedStoreMount;
  /** `flox.dev/nix-mutable`: `/nix` gets the container's private overlay layers. */
  readonly nixMutable: boolean;
  /** The container's `$FLOX_ENV_CACHE` on the node. */
  readonly envCache: string;
  /** The process environment after activation (computeActivation). */
  readonly env: readonly string[];
  /** The container's own command (`process.args`). */
  readonly args: readonly string[];
  /** Set when activation runs through bash: the command is wrapped by the activation script. */
  readonly shell?: ActivationShell;
  /** What was resolved, recorded as annotations (a retried create then runs the spec as it is). */
  readonly generation: number;
  readonly storePath: StorePath;
}

/**
 * The edits that turn a pod's spec into a Flox container's (SPEC §6), in the order runc needs them:
 * `/nix`, `$FLOX_ENV_CACHE`, the activated process, the resolution annotations. Every decision about
 * the spec is here, so one table test covers them. Pure.
 *
 * @example
 * applyModifiers(spec, specEdits({ containerId: "c1", stateDir: "/var/lib/imageless", storeRoot: "/",
 *   storeMount: { kind: "store" }, nixMutable: false, envCache: "/var/lib/imageless/env-cache/c1",
 *   env: ["PATH=/nix/store/…-env/bin"], args: ["app"], generation: 3, storePath: "/nix/store/…-env" }));
 */
export function specEdits(inputs: SpecEditInputs): SpecModifier[] {
  const { shell } = inputs;
  return [
    storeMountModifier(inputs.storeMount, {
      storeRoot: inputs.storeRoot,
      ...(inputs.nixMutable ? { overlay: overlayDirs(inputs.stateDir, inputs.containerId) } : {}),
    }),
    mountEnvCache(inputs.envCache),
    activateProcess(
      inputs.env,
      shell === undefined
        ? undefined
        : shellArgs(shell.bash, shell.script, inputs.args, {
            phase: "start",
            record: shell.record ?? ACTIVATION_RECORD,
          }),
    ),
    addAnnotations({
      [Annotation.resolvedGeneration]: String(inputs.generation),
      [Annotation.resolvedStorePath]: inputs.storePath,
    }),
  ];
}
