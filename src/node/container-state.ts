import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import type { ActivationInput } from "../environment/activation.js";
import { ImagelessError } from "../errors/imageless-error.js";
import { writeFileAtomic } from "../fs/atomic-write.js";

/**
 * What the runtime remembers about a Flox container between `create`, `exec` and `delete`. It holds
 * no secret: exec rewrites are recomputed from `activation`, which is token-free.
 */
export interface ContainerRecord {
  readonly version: 1;
  readonly containerId: string;
  readonly containerName: string;
  readonly environment: string;
  readonly generation: number;
  readonly storePath: string;
  readonly skipExec: boolean;
  readonly activation: ActivationInput;
  readonly createdAt: string;
}

/** The node state directory's layout, in one place. */
export function statePaths(stateDir: string, containerId: string) {
  return {
    record: join(stateDir, "containers", `${containerId}.json`),
    gcRoot: join(stateDir, "gcroots", containerId),
    envCache: join(stateDir, "env-cache", containerId),
    floxmetaCache: join(stateDir, "floxmeta"),
  };
}

export async function saveContainerRecord(stateDir: string, record: ContainerRecord): Promise<void> {
  const path = statePaths(stateDir, record.containerId).record;
  await mkdir(join(stateDir, "containers"), { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, JSON.stringify(record), 0o600);
}

/** The record of a Flox container, or undefined for a container the runtime did not modify. */
export async function loadContainerRecord(
  stateDir: string,
  containerId: string,
): Promise<ContainerRecord | undefined> {
  const path = statePaths(stateDir, containerId).record;
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  return parseContainerRecord(text, path);
}

export async function removeContainerRecord(stateDir: string, containerId: string): Promise<void> {
  const paths = statePaths(stateDir, containerId);
  await rm(paths.record, { force: true });
  await rm(paths.envCache, { recursive: true, force: true });
}

function parseContainerRecord(text: string, source: string): ContainerRecord {
  const value: unknown = JSON.parse(text);
  if (
    typeof value !== "object" ||
    value === null ||
    !("version" in value) ||
    value.version !== 1 ||
    !("activation" in value) ||
    typeof value.activation !== "object"
  ) {
    throw new ImagelessError(
      "internal",
      `container record ${source} is not a version 1 record; delete it and restart the pod`,
    );
  }
  // Written only by saveContainerRecord above, with the same version: the shape check is the contract.
  return value as ContainerRecord;
}
