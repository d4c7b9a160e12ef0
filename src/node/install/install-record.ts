import { createHash } from "node:crypto";
import { ImagelessError } from "../../errors/imageless-error.js";
import { writeFileAtomic } from "../../fs/atomic-write.js";
import { readFileIfExists } from "../../fs/read-if-exists.js";
import { onHost } from "./host-root.js";

/**
 * What install did to the host, kept at `<prefix>/install.json` so uninstall undoes exactly that.
 * Paths are host paths.
 */
export interface InstallRecord {
  readonly version: 1;
  /** The containerd file install edited (config, drop-in or k3s template). */
  readonly configPath: string;
  /** The file did not exist before install (uninstall removes it again). */
  readonly configCreated: boolean;
  /** The backup of the file as it was before imageless first touched it (`config.toml.bak.N`). */
  readonly backup: string | undefined;
  /** sha256 of the text install last wrote: uninstall restores the backup only over that exact text. */
  readonly writtenSha256: string;
  /** The node config install wrote (absent when one was there already), and its sha256. */
  readonly nodeConfig: { readonly path: string; readonly sha256: string } | undefined;
  readonly release: string;
  readonly installedAt: string;
}

/** sha256 hex of a text, as the record stores it. */
export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Reads the record, or undefined when imageless is not installed under `path`. */
export async function loadInstallRecord(hostRoot: string, path: string): Promise<InstallRecord | undefined> {
  const text = await readFileIfExists(onHost(hostRoot, path));
  if (text === undefined) return undefined;
  const value: unknown = JSON.parse(text);
  if (
    typeof value !== "object" ||
    value === null ||
    !("version" in value) ||
    value.version !== 1 ||
    !("configPath" in value) ||
    typeof value.configPath !== "string" ||
    !("writtenSha256" in value) ||
    typeof value.writtenSha256 !== "string"
  ) {
    throw new ImagelessError(
      "invalid-input",
      `install record ${path}: not a version 1 record: remove it and run \`imageless node install\` again`,
    );
  }
  // Written only by saveInstallRecord below with the same version: the shape check is the contract.
  return value as InstallRecord;
}

/** Writes the record atomically. */
export async function saveInstallRecord(
  hostRoot: string,
  path: string,
  record: InstallRecord,
): Promise<void> {
  await writeFileAtomic(onHost(hostRoot, path), `${JSON.stringify(record, null, 2)}\n`);
}
