/**
 * A hub user at the CLI (`bin/imageless` with their own HOME and config home, so the credentials are
 * theirs), their `env push` of store-path environments (closures copied to the hub's cache), and
 * a node whose only git server and binary cache is that hub: what the suites that go from
 * `imageless env push` to a pod share.
 */
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { type FloxNode, type FloxNodeOptions, startFloxNode } from "./flox-node.js";
import type { HubProcess } from "./hub.js";
import type { Fixtures } from "./nix-fixtures.js";
import { repoRoot } from "./repo-root.js";
import { type ProgramRun, runProgram } from "./run-program.js";

const run = promisify(execFile);
const CLI = () => join(repoRoot(), "bin", "imageless");

/** One person's CLI: every call runs `bin/imageless` with HOME = `home` and stdin `input` (default empty). */
export interface CliUser {
  readonly home: string;
  /** Runs the CLI to its end, whatever its exit. */
  run(args: readonly string[], input?: string): Promise<ProgramRun>;
  /** Runs the CLI and returns its stdout; throws with its stderr on a non-zero exit. */
  ok(args: readonly string[], input?: string): Promise<string>;
}

/** `cwd`: the directory the CLI runs in (the test process's when absent). */
export function cliUser(home: string, options: { readonly cwd?: string } = {}): CliUser {
  const runCli = (args: readonly string[], input?: string) =>
    runProgram(CLI(), args, {
      env: {
        PATH: process.env["PATH"] ?? "/usr/bin:/bin",
        HOME: home,
        XDG_CONFIG_HOME: join(home, "config"),
      },
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      input: input ?? "",
    });
  return {
    home,
    run: runCli,
    async ok(args, input) {
      const result = await runCli(args, input);
      if (result.code !== 0)
        throw new Error(`imageless ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
      return result.stdout;
    },
  };
}

/** `imageless auth login --hub --token-file` with the hub's admin token; returns the handle it logged in as. */
export async function loginAsAdmin(user: CliUser, hub: HubProcess): Promise<string> {
  const tokenFile = join(user.home, "admin-token");
  await writeFile(tokenFile, hub.adminToken);
  const login = await user.ok(["auth", "login", "--hub", hub.url, "--token-file", tokenFile]);
  const handle = /as (\S+) /.exec(login)?.[1];
  if (handle === undefined) throw new Error(`auth login named no handle: ${login}`);
  return handle;
}

/** What `imageless env push --json` reports. */
export interface PushResult {
  readonly generation: number;
  readonly copied: number;
  readonly alreadyPresent: number;
}

/** `imageless env push` of `dir` to `ref`, copying the closures from the fixtures' build store. */
export async function pushEnv(
  user: CliUser,
  dir: string,
  ref: string,
  fixtures: Fixtures,
): Promise<PushResult> {
  const fromStore = `local?root=${fixtures.buildStore.storeRoot}`;
  const args = ["env", "push", "-d", dir, "-r", ref, "--copy-paths", "--from-store", fromStore, "--json"];
  return JSON.parse(await user.ok(args)) as PushResult;
}

/**
 * Starts a node that resolves from the hub's git and substitutes only from the hub's cache, trusting
 * only its key (`imageless hub cache-key`): a start of `owner/name` substitutes `<hub>/cache/<owner>`
 * with the pod's token. `options` adds to the node's (e.g. `agent: true`).
 */
export async function startNodeOnHub(
  hub: HubProcess,
  fixtures: Fixtures,
  options: Omit<FloxNodeOptions, "gitUrl" | "cacheUrl" | "fixtures"> = {},
): Promise<FloxNode> {
  const { stdout } = await run(CLI(), ["hub", "cache-key", "--data-dir", hub.dataDir]);
  const hubKey = stdout.trim();
  if (!/^[^:\s]+:[A-Za-z0-9+/=]+$/.test(hubKey))
    throw new Error(`hub cache-key printed ${JSON.stringify(hubKey)}`);
  return startFloxNode({
    ...options,
    gitUrl: `${hub.url}/git`,
    cacheUrl: `${hub.url}/cache`,
    fixtures: { ...fixtures, publicKey: hubKey },
  });
}
