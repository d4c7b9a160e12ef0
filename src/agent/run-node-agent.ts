import { startNodeAgent } from "./node-agent.js";

/**
 * Runs the agent in the foreground until SIGTERM or SIGINT (systemd's stop, Ctrl-C), then lets the
 * calls in flight finish and removes the socket. Prints one line once it listens.
 */
export async function runNodeAgent(
  configPath: string | undefined,
  print: (line: string) => void,
): Promise<void> {
  const agent = await startNodeAgent(configPath);
  print(`imageless node agent: listening on ${agent.socket}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
      resolve();
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
  await agent.close();
}
