import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ImagelessError } from "../errors/imageless-error.js";
import { Secret } from "../log/secret.js";
import type { OciSpec } from "../oci/spec.js";

/** Where a pod mounts its FloxHub token Secret (SPEC §2 "Authentication"). */
export const TOKEN_MOUNT_DIR = "/var/run/secrets/flox.dev";
export const TOKEN_FILE_NAME = "floxhub-token";

/**
 * The host file holding the pod's token: the source of a mount at the token directory (plus the file
 * name), or of a file mount at the token file itself. Pure.
 */
export function podTokenSource(spec: OciSpec): string | undefined {
  for (const mount of spec.mounts ?? []) {
    if (typeof mount.source !== "string") continue;
    const destination = mount.destination.replace(/\/+$/, "");
    if (destination === TOKEN_MOUNT_DIR) return join(mount.source, TOKEN_FILE_NAME);
    if (destination === `${TOKEN_MOUNT_DIR}/${TOKEN_FILE_NAME}`) return mount.source;
  }
  return undefined;
}

/**
 * The token for this container's hub requests: the pod's own Secret wins over the node-wide file.
 * Undefined means anonymous (public environments work).
 */
export async function readToken(spec: OciSpec, nodeTokenFile: string): Promise<Secret | undefined> {
  const podSource = podTokenSource(spec);
  const path = podSource ?? (nodeTokenFile === "" ? undefined : nodeTokenFile);
  if (path === undefined) return undefined;
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const origin =
      podSource === undefined ? "the node token file [floxhub] token-file" : `the pod's ${TOKEN_MOUNT_DIR}`;
    throw new ImagelessError(
      "failed-precondition",
      `cannot read the FloxHub token from ${origin} (${path})`,
      {
        cause: error,
      },
    );
  }
  const token = text.trim();
  return token === "" ? undefined : new Secret(token);
}
