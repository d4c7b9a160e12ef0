import { join } from "node:path";
import { DEMO_DIR } from "../src/pod-runner/demo-paths.js";
import { repoRoot } from "../test/harness/repo-root.js";
import { runProgram } from "../test/harness/run-program.js";
import type { DemoPackages } from "./build-packages.js";
import { say } from "./output.js";

/** Runs bin/imageless with the demo's credentials; its stdout, or an error with its stderr. */
export async function imageless(args: readonly string[]): Promise<string> {
  say(`    $ imageless ${args.map((a) => (/[\s"]/.test(a) ? JSON.stringify(a) : a)).join(" ")}`);
  const run = await runProgram(join(repoRoot(), "bin", "imageless"), args, {
    env: { ...process.env, XDG_CONFIG_HOME: join(DEMO_DIR, "config") },
  });
  if (run.code !== 0) throw new Error(`imageless ${args.join(" ")} exited ${run.code}: ${run.stderr.trim()}`);
  return run.stdout;
}

/** `imageless pod run FILE --json`: the pod's start time. */
export async function podRun(file: string): Promise<number> {
  const started = JSON.parse(await imageless(["pod", "run", join("examples", file), "--json"])) as {
    totalMs: number;
  };
  return started.totalMs;
}

export async function push(dir: string, ref: string, packages: DemoPackages): Promise<void> {
  const pushed = JSON.parse(
    await imageless([
      "env",
      "push",
      "-d",
      dir,
      "-r",
      ref,
      "--copy-paths",
      "--from-store",
      packages.storeUrl,
      "--json",
    ]),
  ) as { generation: number; copied?: number };
  say(
    `    ${ref}: generation ${pushed.generation}, ${pushed.copied ?? 0} store paths uploaded to the hub's cache`,
  );
  if (pushed.generation === 1) {
    // Public: the pods need no token. A private one would take a Secret volume (docs/pods.md).
    await imageless(["env", "visibility", "-r", ref, "public"]);
  }
}
