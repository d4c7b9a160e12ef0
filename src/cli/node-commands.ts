import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { runNodeAgent } from "../agent/run-node-agent.js";
import { createLogger } from "../log/logger.js";
import { configPathFromEnv, DEFAULT_CONFIG_PATH, loadNodeConfig } from "../node/config.js";
import { collectGarbage } from "../node/gc.js";
import { formatDoctor, runDoctor } from "../node/install/doctor.js";
import { DEFAULT_PREFIX, installNode } from "../node/install/install.js";
import { uninstallNode } from "../node/install/uninstall.js";
import { renderRuntimeClass } from "../node/runtime-class.js";
import { formatBytes, formatNodeStatus, nodeStatus } from "../node/status.js";
import { VERSION } from "../version.js";

interface HostFlags {
  hostRoot: string;
  prefix: string;
  containerdConfig?: string;
  nodeConfig: string;
  restart: boolean;
}

/** The build this CLI runs from (`<root>/dist/src/cli/node-commands.js`): what install copies. */
function runningBuild(): string {
  return fileURLToPath(new URL("../../../", import.meta.url)).replace(/\/$/, "");
}

/** `imageless node …`: what a node needs (docs/install.md). */
export function registerNodeCommands(program: Command): void {
  const node = program.command("node").description("node runtime commands (docs/install.md)");
  const hostOptions = (command: Command) =>
    command
      .option("--host-root <dir>", "treat <dir> as the host's / (the DaemonSet mounts it at /host)", "/")
      .option("--prefix <dir>", "where the node programs go (a host path)", DEFAULT_PREFIX)
      .option("--containerd-config <path>", "the config file containerd reads (default: detected)")
      .option(
        "--node-config <path>",
        "the node config (a host path)",
        configPathFromEnv(process.env) ?? DEFAULT_CONFIG_PATH,
      )
      .option("--no-restart", "do not restart containerd after changing its config");

  hostOptions(
    node.command("install").description("add the flox runtime to containerd and install the node programs"),
  )
    .option("--dry-run", "print the config diff and what would be installed; change nothing", false)
    .action(async (opts: HostFlags & { dryRun: boolean }) => {
      const result = await installNode({
        hostRoot: opts.hostRoot,
        prefix: opts.prefix,
        nodeConfigPath: opts.nodeConfig,
        containerdConfig: opts.containerdConfig,
        source: runningBuild(),
        dryRun: opts.dryRun,
        restart: opts.restart,
      });
      print(result.lines.join("\n"));
    });

  hostOptions(
    node.command("uninstall").description("restore containerd's config and remove the node programs"),
  )
    .option("--force", "uninstall even while Flox containers run", false)
    .action(async (opts: HostFlags & { force: boolean }) => {
      const result = await uninstallNode({
        hostRoot: opts.hostRoot,
        prefix: opts.prefix,
        nodeConfigPath: opts.nodeConfig,
        containerdConfig: opts.containerdConfig,
        force: opts.force,
        restart: opts.restart,
      });
      print(result.lines.join("\n"));
    });

  node
    .command("doctor")
    .description(
      "check containerd's live config, the programs, Nix, the caches and the hub; exit 1 on a problem",
    )
    .option("--host-root <dir>", "treat <dir> as the host's /", "/")
    .option("--prefix <dir>", "where the node programs are", DEFAULT_PREFIX)
    .option("--containerd-config <path>", "the config file containerd reads (default: detected)")
    .option("--node-config <path>", "the node config", configPathFromEnv(process.env) ?? DEFAULT_CONFIG_PATH)
    .option("--json", "print the checks as JSON", false)
    .action(async (opts: Omit<HostFlags, "restart"> & { json: boolean }) => {
      const checks = await runDoctor({
        hostRoot: opts.hostRoot,
        prefix: opts.prefix,
        nodeConfigPath: opts.nodeConfig,
        containerdConfig: opts.containerdConfig,
        version: VERSION,
        now: Date.now(),
      });
      const well = checks.every((check) => check.ok);
      print(opts.json ? JSON.stringify({ ok: well, checks }, null, 2) : formatDoctor(checks).trimEnd());
      if (!well) process.exitCode = 1;
    });

  node
    .command("status")
    .description("environments on this node, the containers using each, and disk used")
    .option("--json", "print as JSON", false)
    .action(async (opts: { json: boolean }) => {
      const { config } = await loadNodeConfig(configPathFromEnv(process.env));
      const status = await nodeStatus(config);
      print(opts.json ? JSON.stringify(status, null, 2) : formatNodeStatus(status).trimEnd());
    });

  node
    .command("gc")
    .description("remove environments no container has used for [gc] keep-unused")
    .option("--json", "print as JSON", false)
    .action(async (opts: { json: boolean }) => {
      const { config } = await loadNodeConfig(configPathFromEnv(process.env));
      const log = createLogger(() => {});
      const result = await collectGarbage(config, { log, now: Date.now() });
      print(
        opts.json
          ? JSON.stringify(result, null, 2)
          : `freed ${result.freedProfiles.length} environment(s): ${result.deletedPaths.length} store paths, ${formatBytes(result.freedBytes)}; kept ${result.inUse} in use`,
      );
    });

  node
    .command("runtimeclass")
    .description("print the RuntimeClass for the flox handler (kubectl apply -f -)")
    .action(() => {
      process.stdout.write(renderRuntimeClass());
    });
  node
    .command("agent")
    .description("serve create/exec/delete for bin/imageless-runc on [runtime] agent-socket until SIGTERM")
    .option("--config <path>", "node config (default: $IMAGELESS_CONFIG or /etc/imageless/config.toml)")
    .action(async (opts: { config?: string }) => {
      await runNodeAgent(opts.config ?? configPathFromEnv(process.env), (line) => process.stdout.write(line));
    });
}

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}
