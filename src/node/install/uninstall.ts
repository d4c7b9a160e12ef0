import { readdir, rename, rm, rmdir } from "node:fs/promises";
import { posix } from "node:path";
import { ImagelessError } from "../../errors/imageless-error.js";
import { writeFileAtomic } from "../../fs/atomic-write.js";
import { readFileIfExists } from "../../fs/read-if-exists.js";
import { parseNodeConfig } from "../config.js";
import { listContainerRecords } from "../status.js";
import { removeFloxRuntime } from "./containerd-config-edit.js";
import { K3S_BASE_TEMPLATE, planContainerdEdit } from "./containerd-target.js";
import { detectContainerd } from "./detect.js";
import { onHost } from "./host-root.js";
import { loadInstallRecord, sha256 } from "./install-record.js";
import { RELEASE_PROGRAMS } from "./release-files.js";
import { releaseLayout, removeReleases } from "./release-install.js";
import { restartContainerd } from "./restart.js";
import { withRootHint } from "./root-hint.js";

/** Options of {@link uninstallNode}; every path is a host path. */
export interface UninstallOptions {
  readonly hostRoot: string;
  readonly prefix: string;
  readonly nodeConfigPath: string;
  readonly containerdConfig?: string | undefined;
  /** Uninstall although Flox containers run (they cannot be stopped cleanly afterwards). */
  readonly force: boolean;
  readonly restart: boolean;
}

/** What uninstall did, one line per fact. */
export interface UninstallResult {
  readonly lines: readonly string[];
}

/**
 * `imageless node uninstall`: gives containerd's config back (byte for byte from the backup when the
 * file is as install left it; otherwise by removing exactly the block install added, keeping later
 * edits), removes the installed programs, the record and the default node config when unchanged.
 * Refuses while Flox containers run: their shims call the wrapper again to stop them.
 *
 * @throws {ImagelessError} `failed-precondition` naming the running Flox containers, unless `force`
 */
export async function uninstallNode(opts: UninstallOptions): Promise<UninstallResult> {
  try {
    return await uninstallNodeUnchecked(opts);
  } catch (error) {
    throw withRootHint(error, "uninstall");
  }
}

async function uninstallNodeUnchecked(opts: UninstallOptions): Promise<UninstallResult> {
  const local = (path: string) => onHost(opts.hostRoot, path);
  const layout = releaseLayout(opts.prefix);
  const record = await loadInstallRecord(opts.hostRoot, layout.record);
  const lines: string[] = [];

  const running = await runningFloxContainers(opts);
  if (running.length > 0) {
    const names = running.map((c) => `${c.containerId.slice(0, 12)} (${c.containerName}, ${c.environment})`);
    if (!opts.force) {
      throw new ImagelessError(
        "failed-precondition",
        `${running.length} Flox container(s) still run on this node: ${names.join(", ")}: delete their pods (or drain the node) first, or pass --force (they then cannot be stopped through the flox runtime)`,
      );
    }
    lines.push(`--force: uninstalling while these Flox containers run: ${names.join(", ")}`);
  }

  // The file install edited; without a record (a hand-made install), the one install would edit.
  const configPath =
    record?.configPath ??
    planContainerdEdit(
      await detectContainerd({ hostRoot: opts.hostRoot, containerdConfig: opts.containerdConfig }),
      posix.join(opts.prefix, RELEASE_PROGRAMS.runc),
    ).path;
  const text = await readFileIfExists(local(configPath));
  let configChanged = false;
  if (text === undefined) {
    lines.push(`${configPath}: does not exist, nothing to restore`);
  } else if (
    record?.backup !== undefined &&
    sha256(text) === record.writtenSha256 &&
    (await readFileIfExists(local(record.backup))) !== undefined
  ) {
    await rename(local(record.backup), local(configPath));
    configChanged = true;
    lines.push(`${configPath}: restored byte for byte from ${record.backup}`);
  } else {
    const without = removeFloxRuntime(text);
    const createdBase = without === K3S_BASE_TEMPLATE || /^version = [23]\n$/.test(without);
    if (record?.configCreated === true && createdBase) {
      await rm(local(configPath), { force: true });
      configChanged = true;
      lines.push(`${configPath}: removed (install had created it)`);
    } else if (without !== text) {
      await writeFileAtomic(local(configPath), without);
      configChanged = true;
      lines.push(`${configPath}: removed the flox runtime, every other line kept`);
    } else {
      lines.push(`${configPath}: has no flox runtime added by imageless, unchanged`);
    }
  }

  lines.push(
    (await removeReleases(opts))
      ? `${opts.prefix}: removed the installed programs`
      : `${opts.prefix}: no programs installed`,
  );
  await rm(local(layout.record), { force: true });

  const nodeConfig = record?.nodeConfig;
  if (nodeConfig !== undefined) {
    const current = await readFileIfExists(local(nodeConfig.path));
    if (current !== undefined && sha256(current) === nodeConfig.sha256) {
      await rm(local(nodeConfig.path), { force: true });
      await removeIfEmpty(local(posix.dirname(nodeConfig.path)));
      lines.push(`${nodeConfig.path}: removed (the default install wrote, unchanged)`);
    } else if (current !== undefined) {
      lines.push(`${nodeConfig.path}: kept (changed since install)`);
    }
  }
  await removeIfEmpty(local(opts.prefix));

  if (configChanged) {
    const flavour = configPath.endsWith(".tmpl") ? "k3s" : "containerd";
    lines.push(
      opts.restart
        ? await restartContainerd(flavour, opts.hostRoot)
        : "not restarting (--no-restart): restart containerd to drop the flox runtime",
    );
  }
  return { lines };
}

/** The Flox containers the node's state dir holds a record for (a record lives from create to delete). */
async function runningFloxContainers(opts: UninstallOptions) {
  const configText = await readFileIfExists(onHost(opts.hostRoot, opts.nodeConfigPath));
  const { config } = parseNodeConfig(configText ?? "", opts.nodeConfigPath);
  return listContainerRecords(onHost(opts.hostRoot, config.runtime.stateDir));
}

async function removeIfEmpty(dir: string): Promise<void> {
  const entries = await readdir(dir).catch(() => undefined);
  if (entries !== undefined && entries.length === 0) await rmdir(dir).catch(() => undefined);
}
