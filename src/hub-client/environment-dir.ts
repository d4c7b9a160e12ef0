import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parse as parseToml } from "smol-toml";
import { type Lockfile, parseLockfile } from "../environment/lockfile.js";
import { manifestFromObject } from "../environment/manifest.js";
import { ImagelessError } from "../errors/imageless-error.js";
import { writeFileAtomic } from "../fs/atomic-write.js";
import { readFileIfExists } from "../fs/read-if-exists.js";
import { lockStorePathManifest } from "./store-path-lock.js";

/** The content of a Flox environment directory, ready to become a generation. */
export interface EnvironmentContent {
  readonly manifestToml: string;
  readonly lockText: string;
  readonly lock: Lockfile;
  /** The lock was made here from store-path packages (the directory had none). */
  readonly lockedHere: boolean;
}

/** `DIR/.flox/env`, where Flox keeps an environment's manifest and lock. */
export function envFilesDir(dir: string): string {
  return join(dir, ".flox", "env");
}

/**
 * Reads `DIR/.flox/env/manifest.toml` and `manifest.lock`. Without a lock, a manifest whose packages
 * are all store paths is locked here for its systems (else `localSystem`).
 *
 * @throws {ImagelessError} `not-found` without a manifest; `invalid-input` for a bad manifest or lock,
 *   or catalog packages without a lock.
 * @example
 * const env = await readEnvironmentDir("./myenv", "x86_64-linux");
 */
export async function readEnvironmentDir(dir: string, localSystem: string): Promise<EnvironmentContent> {
  const files = envFilesDir(dir);
  const manifestPath = join(files, "manifest.toml");
  const lockPath = join(files, "manifest.lock");
  const manifestToml = await readFileIfExists(manifestPath);
  if (manifestToml === undefined) {
    throw new ImagelessError(
      "not-found",
      `${manifestPath} does not exist: -d must name a Flox environment directory (one holding .flox/env/manifest.toml)`,
    );
  }
  const raw = parseManifestTable(manifestToml, manifestPath);
  manifestFromObject(raw, manifestPath); // validates before anything reaches the hub
  const existing = await readFileIfExists(lockPath);
  if (existing !== undefined) {
    return { manifestToml, lockText: existing, lock: parseLockfile(existing, lockPath), lockedHere: false };
  }
  const lockText = `${JSON.stringify(lockStorePathManifest(raw, { localSystem, source: manifestPath }), null, 2)}\n`;
  return {
    manifestToml,
    lockText,
    lock: parseLockfile(lockText, `lock made for ${manifestPath}`),
    lockedHere: true,
  };
}

/**
 * Writes a generation's manifest and lock to `DIR/.flox/env/`, and a path environment's `.flox/env.json`
 * when the directory has none (so `flox activate -d DIR` recognises it).
 */
export async function writeEnvironmentDir(
  dir: string,
  content: { name: string; manifestToml: string; lockText?: string },
): Promise<string[]> {
  const files = envFilesDir(dir);
  await mkdir(files, { recursive: true });
  const written = [join(files, "manifest.toml")];
  await writeFileAtomic(join(files, "manifest.toml"), content.manifestToml);
  if (content.lockText !== undefined) {
    written.push(join(files, "manifest.lock"));
    await writeFileAtomic(join(files, "manifest.lock"), content.lockText);
  }
  const envJson = join(dir, ".flox", "env.json");
  try {
    await writeFile(envJson, `${JSON.stringify({ name: content.name, version: 1 })}\n`, { flag: "wx" });
    written.push(envJson);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  return written;
}

function parseManifestTable(text: string, source: string): Record<string, unknown> {
  try {
    return parseToml(text);
  } catch (error) {
    const reason = error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error);
    throw new ImagelessError("invalid-input", `${source}: not valid TOML: ${reason}`, { cause: error });
  }
}
