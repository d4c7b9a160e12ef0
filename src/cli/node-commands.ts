import type { Command } from "commander";
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
}
