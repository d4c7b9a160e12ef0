import { constants } from "node:fs";
import { type FileHandle, open, readlink, realpath } from "node:fs/promises";
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
 * Where the pod's token is on the host: `file`, and `root`, the mount's source, which every link on
 * the way to it must stay inside (for a file mount the file itself). From a mount at the token
 * directory (plus the file name), or a file mount at the token file. Pure.
 */
export function podTokenMount(spec: OciSpec): { file: string; root: string } | undefined {
  for (const mount of spec.mounts ?? []) {
    if (typeof mount.source !== "string") continue;
    const destination = mount.destination.replace(/\/+$/, "");
    if (destination === TOKEN_MOUNT_DIR)
      return { file: join(mount.source, TOKEN_FILE_NAME), root: mount.source };
    if (destination === `${TOKEN_MOUNT_DIR}/${TOKEN_FILE_NAME}`)
      return { file: mount.source, root: mount.source };
  }
  return undefined;
}

/** The host file holding the pod's token (see {@link podTokenMount}). Pure. */
export function podTokenSource(spec: OciSpec): string | undefined {
  return podTokenMount(spec)?.file;
}

/** A token file larger than this is not a token (FloxHub's are well under 2 KiB): it is refused unread. */
export const MAX_TOKEN_BYTES = 64 * 1024;

/**
 * The token for this container's hub requests: the pod's own Secret wins over the node-wide file.
 * Undefined means anonymous (public environments work). A JWT past its `exp` (at `now`, epoch ms)
 * fails here, before any hub request.
 *
 * The pod's file is read as root from a directory the pod's author chose, so it is read warily (see
 * {@link readTokenFile}): nothing outside the mount is followed, only a regular file of at most
 * {@link MAX_TOKEN_BYTES} is read, and a FIFO cannot block the start.
 *
 * @throws {ImagelessError} `failed-precondition` when the file cannot be read or is refused,
 * `unauthorized` when expired.
 * @example
 * const token = await readToken(spec, config.floxhub.tokenFile, Date.now());
 */
export async function readToken(
  spec: OciSpec,
  nodeTokenFile: string,
  now: number = Date.now(),
): Promise<Secret | undefined> {
  const pod = podTokenMount(spec);
  const podSource = pod?.file;
  const path = podSource ?? (nodeTokenFile === "" ? undefined : nodeTokenFile);
  if (path === undefined) return undefined;
  const origin =
    podSource === undefined ? "the node token file [floxhub] token-file" : `the pod's ${TOKEN_MOUNT_DIR}`;
  const text = await readTokenFile(path, {
    origin,
    within: pod?.root,
  });
  const value = text.trim();
  if (value === "") return undefined;
  // A token travels in a netrc and an HTTP header: whitespace or control characters inside it would
  // split a netrc entry or a header line.
  if (/\s/.test(value) || [...value].some((char) => char < " " || char === "\u007f")) {
    throw new ImagelessError(
      "failed-precondition",
      `the FloxHub token from ${origin} (${path}) contains whitespace or control characters: put only the token (flox auth token) in the file`,
    );
  }
  const token = new Secret(value);
  assertTokenNotExpired(
    token,
    now,
    podSource === undefined ? `the node token file ${path}` : `the pod's secret ${TOKEN_FILE_NAME}`,
  );
  return token;
}

/**
 * Reads a token file: opened non-blocking (a FIFO cannot hang the start), then checked through
 * `/proc/self/fd` (where the opened file really is, whatever links and races led there) to lie
 * inside `within`'s real path, to be a regular file, and to be at most {@link MAX_TOKEN_BYTES}.
 * Kubernetes' Secret layout (`floxhub-token -> ..data/floxhub-token`, `..data -> ..2026_…`) stays
 * inside the mount and works.
 */
async function readTokenFile(
  path: string,
  opts: { origin: string; within: string | undefined },
): Promise<string> {
  const refuse = (why: string, cause?: unknown) =>
    new ImagelessError(
      "failed-precondition",
      `cannot read the FloxHub token from ${opts.origin} (${path}): ${why}`,
      cause === undefined ? {} : { cause },
    );
  let root: string | undefined;
  if (opts.within !== undefined) {
    try {
      root = await realpath(opts.within);
    } catch (error) {
      throw refuse(`the mount's source ${opts.within} cannot be resolved`, error);
    }
  }
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    throw refuse(`${(error as NodeJS.ErrnoException).code ?? String(error)}`, error);
  }
  try {
    if (root !== undefined) {
      const opened = await readlink(`/proc/self/fd/${handle.fd}`);
      if (opened !== root && !opened.startsWith(`${root}/`)) {
        throw refuse(
          `it links outside the secret mount (to ${opened}): mount the floxhub-token Secret as a volume, not a link to another file`,
        );
      }
    }
    const info = await handle.stat();
    if (!info.isFile()) throw refuse("not a regular file: the Secret key floxhub-token must hold the token");
    if (info.size > MAX_TOKEN_BYTES) {
      throw refuse(
        `${info.size} bytes, more than the ${MAX_TOKEN_BYTES} a token may have: put only the token (flox auth token) in it`,
      );
    }
    const buffer = Buffer.alloc(MAX_TOKEN_BYTES + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    if (bytesRead > MAX_TOKEN_BYTES) throw refuse(`more than the ${MAX_TOKEN_BYTES} bytes a token may have`);
    return buffer.subarray(0, bytesRead).toString("utf8");
  } finally {
    await handle.close();
  }
}
