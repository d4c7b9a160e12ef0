import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ImagelessError } from "../errors/imageless-error.js";
import { Secret } from "../log/secret.js";
import type { OciSpec } from "../oci/spec.js";
import { assertTokenNotExpired } from "./jwt.js";

/** Where a pod mounts its FloxHub token Secret (SPEC §2 "Authentication"). */
export const TOKEN_MOUNT_DIR = "/var/run/secrets/flox.dev";
/** The file in that mount (the Secret's key) that holds the token. */
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
 * Undefined means anonymous (public environments work). A JWT past its `exp` (at `now`, epoch ms)
 * fails here, before any hub request.
 *
 * @throws {ImagelessError} `failed-precondition` when the file cannot be read, `unauthorized` when expired.
 * @example
 * const token = await readToken(spec, config.floxhub.tokenFile, Date.now());
 */
export async function readToken(
  spec: OciSpec,
  nodeTokenFile: string,
  now: number = Date.now(),
): Promise<Secret | undefined> {
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
  const value = text.trim();
  if (value === "") return undefined;
  const token = new Secret(value);
  assertTokenNotExpired(
    token,
    now,
    podSource === undefined ? `the node token file ${path}` : `the pod's secret ${TOKEN_FILE_NAME}`,
  );
  return token;
}
