/**
 * Real programs of this machine's distribution (Debian's bash, redis-server …) as store paths that run
 * with only /nix mounted: the shared libraries `ldd` names, and the dynamic loader, go into a
 * `<name>-libs` path; copies of the programs are patchelf'd to use that loader and RPATH. patchelf
 * runs here, outside Nix: a chroot-store build sees only store paths, and a path cannot name its own
 * hash before it exists. The caller wraps the result in a derivation that has the libs as an input
 * (see test/harness/nix-fixtures.ts, demo/packages.nix), so Nix records the reference and the libs
 * travel with the programs through closures and binary caches.
 */
import { execFile } from "node:child_process";
import { chmod, copyFile, mkdir } from "node:fs/promises";
import { basename, join } from "node:path";
import { promisify } from "node:util";
import { ImagelessError } from "../errors/imageless-error.js";
import { runNix } from "./run-nix.js";
import { isStorePath, type StorePath } from "./store-path.js";

const run = promisify(execFile);

/** Options of {@link importHostPrograms}. */
export interface ImportHostProgramsOptions {
  /** Store name of the programs' path; the libraries go to `<name>-libs`. */
  readonly name: string;
  /** Name under `bin/` → the program on this machine (`{ bash: "/bin/bash" }`). */
  readonly programs: Readonly<Record<string, string>>;
  /** A scratch directory for the trees to add. */
  readonly workDir: string;
  /** The store arguments (`storeArgs(store)`) of the store to add to. */
  readonly storeArgs: readonly string[];
}

/** The two added paths; `programs` is not yet registered as referencing `libs` (wrap it). */
export interface ImportedPrograms {
  readonly libs: StorePath;
  readonly programs: StorePath;
}

/**
 * ldd's "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)" and "/lib64/ld-linux-x86-64.so.2 (0x…)"
 * lines → the absolute library paths. Pure.
 */
export function parseLddOutput(text: string): string[] {
  return [...text.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/g)]
    .map((m) => m[1] ?? "")
    .filter((p) => p !== "");
}

/**
 * Adds the programs and their libraries to the store.
 *
 * @throws {ImagelessError} `failed-precondition` when a program is not a dynamically linked ELF file.
 */
export async function importHostPrograms(opts: ImportHostProgramsOptions): Promise<ImportedPrograms> {
  const libDir = join(opts.workDir, `${opts.name}-libs`, "lib");
  await mkdir(libDir, { recursive: true });
  const libraries = new Set<string>();
  for (const program of Object.values(opts.programs)) {
    const { stdout } = await run("ldd", [program]).catch((error: unknown) => {
      throw new ImagelessError("failed-precondition", `ldd ${program}: ${(error as Error).message}`);
    });
    for (const library of parseLddOutput(stdout)) libraries.add(library);
  }
  let loader = "";
  for (const library of libraries) {
    const target = join(libDir, basename(library));
    await copyFile(library, target); // follows the distribution's symlinks
    await chmod(target, 0o755);
    if (basename(library).startsWith("ld-linux")) loader = basename(library);
  }
  if (loader === "") {
    throw new ImagelessError(
      "failed-precondition",
      `ldd named no dynamic loader for ${Object.values(opts.programs).join(", ")}`,
    );
  }
  const libs = await add(join(opts.workDir, `${opts.name}-libs`), opts.storeArgs, `${opts.name}'s libraries`);
  const binDir = join(opts.workDir, opts.name, "bin");
  await mkdir(binDir, { recursive: true });
  for (const [name, program] of Object.entries(opts.programs)) {
    const copy = join(binDir, name);
    await copyFile(program, copy);
    await chmod(copy, 0o755);
    // DT_RPATH (--force-rpath), not DT_RUNPATH: the loader applies a program's RPATH to the libraries'
    // own dependencies too (redis-server → libsystemd → …), RUNPATH only to the program's direct ones.
    await run("patchelf", [
      "--set-interpreter",
      `${libs}/lib/${loader}`,
      "--force-rpath",
      "--set-rpath",
      `${libs}/lib`,
      copy,
    ]);
  }
  const programs = await add(join(opts.workDir, opts.name), opts.storeArgs, `the patched ${opts.name}`);
  return { libs, programs };
}

async function add(dir: string, storeArgs: readonly string[], what: string): Promise<StorePath> {
  const out = (await runNix("nix-store", ["--add", dir, ...storeArgs], { action: `adding ${what}` })).trim();
  if (!isStorePath(out))
    throw new ImagelessError("internal", `nix-store --add printed "${out}", not a store path`);
  return out;
}
