import type { Command } from "commander";
import { runNodeAgent } from "../agent/run-node-agent.js";
import { configPathFromEnv } from "../node/config.js";
import { renderRuntimeClass } from "../node/runtime-class.js";

/** `imageless node …`: what a node needs. */
export function registerNodeCommands(program: Command): void {
  const node = program.command("node").description("node runtime commands");
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
