import { dirname, join } from "node:path";
import { isSea } from "node:sea";
import { fileURLToPath } from "node:url";

/**
 * How this program is installed. `single-executable`: one file (Node's single executable
 * application, built by scripts/build-node-binary.mjs) that needs no Node.js on the machine, installed
 * beside the sh scripts of bin/. `dist`: the tsc build run by a `node` on PATH, bin/ beside dist/.
 */
export type Layout =
  | { readonly kind: "single-executable"; readonly executable: string }
  | { readonly kind: "dist"; readonly node: string; readonly entry: string; readonly binDir: string };

/** The subcommands of the entry (src/main/imageless.ts) that only this program itself calls. */
export const HiddenCommand = {
  /** The wrapper's create/exec/delete work; bin/imageless-runc runs it with runc's argv. */
  runc: "__runc",
  /** The detached telemetry sender: `__send-telemetry <state-dir>`, the endpoint in the environment. */
  sendTelemetry: "__send-telemetry",
} as const;
export type HiddenCommand = (typeof HiddenCommand)[keyof typeof HiddenCommand];

/** The name the single executable has beside bin/imageless-runc and bin/imageless once installed. */
export const SINGLE_EXECUTABLE_NAME = "imageless-node";

/**
 * The program and argv that run `command` of this same build: the executable itself with the
 * subcommand, or `node <dist entry> <subcommand>`. Never a bare `node` from PATH, which a node need not have.
 *
 * @example
 * const { program, args } = selfInvocation(currentLayout(), HiddenCommand.sendTelemetry, [stateDir]);
 * spawn(program, args, { detached: true });
 */
export function selfInvocation(
  layout: Layout,
  command: HiddenCommand,
  args: readonly string[],
): { program: string; args: string[] } {
  if (layout.kind === "single-executable") return { program: layout.executable, args: [command, ...args] };
  return { program: layout.node, args: [layout.entry, command, ...args] };
}

/**
 * The sh dispatcher this build runs behind (`runc` on PATH may resolve to it and must be skipped, or
 * the wrapper would run itself): beside the single executable, or in the checkout's bin/.
 */
export function wrapperPath(layout: Layout): string {
  const dir = layout.kind === "single-executable" ? dirname(layout.executable) : layout.binDir;
  return join(dir, "imageless-runc");
}

/** The layout of the running process. */
export function currentLayout(): Layout {
  // In the single executable, import.meta.url is the executable's own URL (the bundler defines it so),
  // so only process.execPath says where it is.
  if (isSea()) return { kind: "single-executable", executable: process.execPath };
  return {
    kind: "dist",
    node: process.execPath,
    entry: fileURLToPath(new URL("../main/imageless.js", import.meta.url)),
    binDir: fileURLToPath(new URL("../../../bin", import.meta.url)),
  };
}
