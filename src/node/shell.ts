import { lstat } from "node:fs/promises";
import { join } from "node:path";
import { ImagelessError } from "../errors/imageless-error.js";
import { isStorePath, type StorePath } from "../nix/store-path.js";

/** A bash that activation can run in the container (it sees the node store at /nix). */
export interface LocatedBash {
  /** The executable, `/nix/store/<hash>-<name>/bin/bash`. */
  readonly bash: string;
  /** Where it came from: a package of the environment, their closure, or `[runtime] shell`. */
  readonly source: "environment" | "closure" | "config";
  /** Set for `config`: the store path the node had to realise, which the container must root. */
  readonly configStorePath?: StorePath;
}

/** The edges {@link locateBash} touches. */
export interface LocateBashDeps {
  /** The node store root (`/` for the host store). */
  readonly storeRoot: string;
  /** `[runtime] shell`, `""` when unset. */
  readonly configShell: string;
  /** The run-time closure of store paths (nix-store --query --requisites). */
  readonly closure: (paths: readonly StorePath[]) => Promise<readonly StorePath[]>;
  /** Realises store paths from the node's substituters. */
  readonly realise: (paths: readonly StorePath[]) => Promise<unknown>;
}

// A bash package by name: nixpkgs' `bash-5.2p37` and `bash-interactive-5.2p37` (not `bash-completion`).
const BASH_NAME = /^\/nix\/store\/[0-9a-z]{32}-bash(?:-interactive)?-[0-9]/;

/** True for a store path named like a bash package (`bash-<version>`, `bash-interactive-<version>`). */
export function isBashStorePath(path: StorePath): boolean {
  return BASH_NAME.test(path);
}

/**
 * Splits `[runtime] shell` into the store path to realise and the bash executable: either a bash
 * package's store path (then `bin/bash` in it) or a file inside one. Pure.
 *
 * @throws {ImagelessError} `invalid-input` when the value is not under /nix/store.
 * @example
 * configShellPaths("/nix/store/abc…-bash-5.2"); // { storePath: "/nix/store/abc…-bash-5.2", bash: "/nix/store/abc…-bash-5.2/bin/bash" }
 */
export function configShellPaths(shell: string): { storePath: StorePath; bash: string } {
  const top = shell.split("/").slice(0, 4).join("/");
  if (!isStorePath(top)) {
    throw new ImagelessError(
      "invalid-input",
      `config [runtime] shell: cannot use "${shell}": accepted value is a bash store path like /nix/store/<hash>-bash-5.2 (or its bin/bash)`,
    );
  }
  return { storePath: top, bash: shell === top ? `${top}/bin/bash` : shell.replace(/\/+$/, "") };
}

/**
 * Finds the bash that runs a hook (SPEC §5): the first package output of the environment with a
 * `bin/bash`, else a bash package in the environment's closure, else `[runtime] shell` (realised
 * like the packages).
 *
 * @param outputs the environment's package outputs, in link order.
 * @param closureOf the built environment, whose closure is searched.
 * @param why names the environment and what needs the shell, for the error.
 * @throws {ImagelessError} `failed-precondition` when there is no bash anywhere, saying how to add one.
 */
export async function locateBash(
  outputs: readonly StorePath[],
  closureOf: StorePath,
  why: string,
  deps: LocateBashDeps,
): Promise<LocatedBash> {
  for (const output of outputs) {
    if (await hasBash(output, deps.storeRoot)) return { bash: `${output}/bin/bash`, source: "environment" };
  }
  for (const path of (await deps.closure([closureOf])).filter(isBashStorePath)) {
    if (await hasBash(path, deps.storeRoot)) return { bash: `${path}/bin/bash`, source: "closure" };
  }
  if (deps.configShell !== "") {
    const { storePath, bash } = configShellPaths(deps.configShell);
    await deps.realise([storePath]);
    return { bash, source: "config", configStorePath: storePath };
  }
  throw new ImagelessError(
    "failed-precondition",
    `${why} needs bash, but no package of the environment or its closure has bin/bash: install bash in the environment (flox install bash) or set [runtime] shell in the node config to a bash store path`,
  );
}

/** `<path>/bin/bash` exists in the node store (a link counts: it resolves inside the container). */
async function hasBash(path: StorePath, storeRoot: string): Promise<boolean> {
  const real = storeRoot === "/" ? path : join(storeRoot, path);
  return lstat(join(real, "bin", "bash")).then(
    () => true,
    () => false,
  );
}
