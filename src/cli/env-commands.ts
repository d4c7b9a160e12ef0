import type { Command } from "commander";

/** `imageless env …` (see docs/hub.md). */
export function registerEnvCommands(program: Command): void {
  program.command("env").description("env commands (not built yet)");
}
