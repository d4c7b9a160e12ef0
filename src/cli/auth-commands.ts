import type { Command } from "commander";

/** `imageless auth …` (see docs/hub.md). */
export function registerAuthCommands(program: Command): void {
  program.command("auth").description("auth commands (not built yet)");
}
