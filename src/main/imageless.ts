import { HiddenCommand } from "../program/layout.js";

/**
 * The one entry of every Node side of imageless, in dist/ and in the single executable alike:
 * the CLI (`imageless …`), the wrapper's create/exec/delete work (`__runc`, from bin/imageless-runc) and
 * the detached telemetry sender (`__send-telemetry`). Each part is imported only when asked for, so
 * a runc call loads no CLI and no hub code, and `imageless --version` no runtime code.
 */
async function dispatch(argv: readonly string[]): Promise<void> {
  const [command, ...rest] = argv.slice(2);
  switch (command) {
    case HiddenCommand.runc: {
      const { runWrapper } = await import("../runc/main.js");
      await runWrapper(rest);
      return;
    }
    case HiddenCommand.sendTelemetry: {
      const { runSender } = await import("../telemetry/sender-main.js");
      await runSender(rest, process.env);
      return;
    }
    default: {
      const { runCli } = await import("../cli/main.js");
      await runCli(argv);
    }
  }
}

// Not a top-level await: the single executable runs this as CommonJS, which has none. Every part
// catches and reports its own failures; anything left is a bug, reported as one.
dispatch(process.argv).catch((error: unknown) => {
  process.stderr.write(
    `imageless: internal error: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
