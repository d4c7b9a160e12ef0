import type { Command } from "commander";

/** `imageless hub …` (see docs/hub.md). */
export function registerHubCommands(program: Command): void {
  program.command("hub").description("hub commands (not built yet)");
}
