import { chown, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PIP_CONFIG, PIP_CONFIG_NAME } from "../environment/activation.js";
import { ACTIVATION_RECORD_DIR } from "../oci/modifiers/env-cache.js";
import type { OciSpec } from "../oci/spec.js";

/**
 * Creates the container's $FLOX_ENV_CACHE on the node and, inside it, the directory where
 * activation records itself (for exec), both owned by the container's user so a non-root command
 * can write them; in dev mode with pip3 it writes the `pip.ini` Flox's python profile script writes.
 */
export async function prepareEnvCache(
  dir: string,
  process: NonNullable<OciSpec["process"]>,
  options: { readonly pipConfig: boolean },
): Promise<void> {
  const recordDir = join(dir, ACTIVATION_RECORD_DIR);
  await mkdir(recordDir, { recursive: true, mode: 0o755 });
  const { uid, gid } = processUser(process);
  if (uid !== 0) {
    await chown(dir, uid, gid);
    await chown(recordDir, uid, gid);
  }
  if (options.pipConfig) await writeFile(join(dir, PIP_CONFIG_NAME), PIP_CONFIG, { mode: 0o644 });
}

/**
 * The uid and gid the container's process runs as (0 when the spec names none; the gid defaults
 * to the uid). Pure.
 *
 * @example
 * processUser({ user: { uid: 1000, gid: 100 } }); // { uid: 1000, gid: 100 }
 */
export function processUser(process: NonNullable<OciSpec["process"]>): { uid: number; gid: number } {
  const user: unknown = process.user;
  if (typeof user !== "object" || user === null) return { uid: 0, gid: 0 };
  const { uid, gid } = user as { uid?: unknown; gid?: unknown };
  const id = typeof uid === "number" ? uid : 0;
  return { uid: id, gid: typeof gid === "number" ? gid : id };
}
