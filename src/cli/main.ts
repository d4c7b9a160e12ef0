import { Command } from "commander";
import { ImagelessError } from "../errors/imageless-error.js";
import { VERSION } from "../version.js";
import { registerAuthCommands } from "./auth-commands.js";
import { registerEnvCommands } from "./env-commands.js";
import { registerHubCommands } from "./hub-commands.js";
import { registerImageCommands } from "./image-commands.js";
import { registerNodeCommands } from "./node-commands.js";
import { registerPodCommands } from "./pod-commands.js";

/**
 * `imageless`: hub, env, auth, node, image and pod commands. Each group lives in its own module and only
 * parses flags, calls one library function and prints; errors map to exit codes here, once.
 */
const program = new Command("imageless")
  .description("Imageless Kubernetes: pods that run their command inside a Flox environment")
  .version(VERSION)
  .showHelpAfterError();

registerEnvCommands(program);
registerAuthCommands(program);
registerHubCommands(program);
registerNodeCommands(program);
registerImageCommands(program);
registerPodCommands(program);

/** Exit codes by error kind: scripts can tell "fix your input" from "try again later". */
const EXIT_CODES: Record<string, number> = {
  "invalid-input": 2,
  "not-found": 3,
  unauthorized: 4,
  unavailable: 5,
  unsupported: 6,
  "failed-precondition": 7,
  internal: 1,
};

/** Runs the CLI on `argv` (node's form: program and script first); src/main/imageless.ts calls it. */
export async function runCli(argv: readonly string[]): Promise<void> {
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (error instanceof ImagelessError) {
      process.stderr.write(`imageless: ${error.message}\n`);
      process.exit(EXIT_CODES[error.kind] ?? 1);
    }
    process.stderr.write(
      `imageless: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  }
}
