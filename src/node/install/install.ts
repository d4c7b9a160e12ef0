import { constants } from "node:fs";
import { copyFile, mkdir, readdir, stat } from "node:fs/promises";
import { posix } from "node:path";
import { writeFileAtomic } from "../../fs/atomic-write.js";
import { readFileIfExists } from "../../fs/read-if-exists.js";
import { hasFloxBlock } from "./containerd-config-edit.js";
import { planContainerdEdit } from "./containerd-target.js";
import { renderDefaultNodeConfig } from "./default-node-config.js";
import { detectContainerd } from "./detect.js";
import { onHost } from "./host-root.js";
import { type InstallRecord, loadInstallRecord, saveInstallRecord, sha256 } from "./install-record.js";
import { RELEASE_PROGRAMS, releaseId, releaseManifest } from "./release-files.js";
import { currentRelease, installRelease, releaseLayout } from "./release-install.js";
import { restartContainerd } from "./restart.js";
import { withRootHint } from "./root-hint.js";
import { unifiedDiff } from "./text-diff.js";

/** Where the node programs go unless `--prefix` says otherwise. */
export const DEFAULT_PREFIX = "/opt/imageless";

/** Options of {@link installNode}; every path is a host path. */
export interface InstallOptions {
  /** The host's `/` as this process sees it (`/host` in the DaemonSet). */
  readonly hostRoot: string;
  /** Where releases and the `bin` link go (default {@link DEFAULT_PREFIX}). */
  readonly prefix: string;
  /** The node config to create when absent (default /etc/imageless/config.toml). */
  readonly nodeConfigPath: string;
  /** `--containerd-config`: the file containerd reads, instead of detecting it. */
  readonly containerdConfig?: string | undefined;
  /** The build to install: a checkout or release tree holding bin/, libexec/, dist/ and node_modules/. */
  readonly source: string;
  /** Print what would change (the config diff) and change nothing. */
  readonly dryRun: boolean;
  /** Restart containerd when its config changed (`--no-restart` turns it off). */
  readonly restart: boolean;
}

/** What install did (or would do), one line per fact, and whether anything changed. */
export interface InstallResult {
  readonly lines: readonly string[];
  readonly changed: boolean;
}

/**
 * `imageless node install` (SPEC §8): adds the flox runtime to containerd's config (backing the file
 * up first), installs the node programs under the prefix, writes a default node config when there
 * is none, records what it did for uninstall, and restarts containerd when its config changed.
 * Idempotent: a second run with the same build changes nothing; a new build is swapped in while
 * running containers keep working (containerd's config does not change, so no restart).
 */
export async function installNode(opts: InstallOptions): Promise<InstallResult> {
  try {
    return await installNodeUnchecked(opts);
  } catch (error) {
    throw withRootHint(error, "install");
  }
}

async function installNodeUnchecked(opts: InstallOptions): Promise<InstallResult> {
  const local = (path: string) => onHost(opts.hostRoot, path);
  const layout = releaseLayout(opts.prefix);
  const facts = await detectContainerd({ hostRoot: opts.hostRoot, containerdConfig: opts.containerdConfig });
  const binaryName = posix.join(opts.prefix, RELEASE_PROGRAMS.runc);
  const edit = planContainerdEdit(facts, binaryName);
  const entries = await releaseManifest(opts.source);
  const id = await releaseId(opts.source, entries);
  const current = await currentRelease(opts);
  const nodeConfigText = await readFileIfExists(local(opts.nodeConfigPath));
  const configChanges = edit.after !== edit.before;
  const lines = [
    `containerd ${facts.version ?? "(version unknown: no containerd binary answered --version)"}${facts.flavour === "k3s" ? " (k3s)" : ""}; editing ${edit.path}: ${edit.why} (config version ${edit.schema})`,
  ];

  if (opts.dryRun) {
    lines.push(
      configChanges
        ? unifiedDiff(edit.before ?? "", edit.after, {
            from: `${edit.path} (now)`,
            to: `${edit.path} (after install)`,
          }).trimEnd()
        : `${edit.path}: already has the flox runtime, unchanged`,
      current === id
        ? `${opts.prefix}: release ${id} already current`
        : `${opts.prefix}: would install release ${id}${current === undefined ? "" : ` (replacing ${current})`}`,
      nodeConfigText === undefined
        ? `${opts.nodeConfigPath}: would write the default node config`
        : `${opts.nodeConfigPath}: exists, left as it is`,
    );
    return { lines, changed: configChanges || current !== id || nodeConfigText === undefined };
  }

  let backup: string | undefined;
  if (configChanges) {
    // The backup keeps the file as it was before imageless touched it; later edits replace only our block.
    if (edit.before !== undefined && !hasFloxBlock(edit.before))
      backup = await backUp(opts.hostRoot, edit.path);
    const mode = await stat(local(edit.path)).then(
      (info) => info.mode & 0o7777,
      () => 0o644,
    );
    await mkdir(posix.dirname(local(edit.path)), { recursive: true });
    await writeFileAtomic(local(edit.path), edit.after, mode);
    lines.push(`${edit.path}: added the flox runtime${backup === undefined ? "" : ` (backup: ${backup})`}`);
  } else {
    lines.push(`${edit.path}: already has the flox runtime, unchanged`);
  }

  const release = await installRelease(entries, id, opts);
  lines.push(
    release.changed
      ? `${opts.prefix}: installed release ${id}${release.previous === undefined ? "" : ` (was ${release.previous}; running containers switch at their next runc call)`}`
      : `${opts.prefix}: release ${id} already current`,
  );

  let writtenNodeConfig: InstallRecord["nodeConfig"];
  if (nodeConfigText === undefined) {
    const text = renderDefaultNodeConfig();
    await mkdir(posix.dirname(local(opts.nodeConfigPath)), { recursive: true });
    await writeFileAtomic(local(opts.nodeConfigPath), text, 0o644);
    writtenNodeConfig = { path: opts.nodeConfigPath, sha256: sha256(text) };
    lines.push(`${opts.nodeConfigPath}: wrote the default node config`);
  } else {
    lines.push(`${opts.nodeConfigPath}: exists, left as it is`);
  }

  const previous = await loadInstallRecord(opts.hostRoot, layout.record);
  const samePlace = previous?.configPath === edit.path;
  const record: InstallRecord = {
    version: 1,
    configPath: edit.path,
    configCreated: samePlace ? previous.configCreated : edit.before === undefined,
    backup: samePlace ? (previous.backup ?? backup) : backup,
    writtenSha256: sha256(edit.after),
    nodeConfig: previous?.nodeConfig ?? writtenNodeConfig,
    release: id,
    installedAt: previous?.installedAt ?? new Date().toISOString(),
  };
  if (previous === undefined || JSON.stringify(previous) !== JSON.stringify(record)) {
    await saveInstallRecord(opts.hostRoot, layout.record, record);
  }

  if (configChanges) {
    lines.push(
      opts.restart
        ? await restartContainerd(facts.flavour, opts.hostRoot)
        : `not restarting (--no-restart): restart ${facts.flavour === "k3s" ? "k3s" : "containerd"} to load the flox runtime`,
    );
  }
  const changed = configChanges || release.changed || writtenNodeConfig !== undefined;
  if (!changed) lines.push("nothing to do: imageless is installed and current");
  return { lines, changed };
}

/** Copies `path` to the next free `path.bak.N` (N from 1); returns the backup's host path. */
async function backUp(hostRoot: string, path: string): Promise<string> {
  const dir = posix.dirname(path);
  const base = posix.basename(path);
  const taken = (await readdir(onHost(hostRoot, dir)))
    .map((name) => (name.startsWith(`${base}.bak.`) ? Number(name.slice(base.length + 5)) : Number.NaN))
    .filter((n) => Number.isInteger(n) && n > 0);
  const next = Math.max(0, ...taken) + 1;
  const backup = `${path}.bak.${next}`;
  await copyFile(onHost(hostRoot, path), onHost(hostRoot, backup), constants.COPYFILE_EXCL);
  return backup;
}
