/**
 * `imageless-runc create` run directly, as containerd's shim runs it, with a named fake runc
 * (test/fixtures/fake-runc.sh) behind it: the whole node pipeline (token, resolve, realise, build,
 * spec write) against a real Nix store and cache, without containers. For tests that need many
 * starts at once or a start killed at a chosen moment, which CRI makes slow or imprecise.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { repoRoot } from "./repo-root.js";

/** The fake runc every create here ends in. */
export function fakeRuncPath(): string {
  return join(repoRoot(), "test", "fixtures", "fake-runc.sh");
}

/** What a node config for {@link writeNodeConfig} needs. */
export interface DirectNodeOptions {
  readonly storeRoot: string;
  readonly stateDir: string;
  readonly gitUrl: string;
  readonly substituters: readonly string[];
  readonly publicKey: string;
  readonly cacheUrl?: string;
  readonly extra?: string;
}

/** Writes a node config whose real runc is the fake, telemetry off. */
export async function writeNodeConfig(path: string, opts: DirectNodeOptions): Promise<void> {
  await writeFile(
    path,
    [
      "[floxhub]",
      `url = "https://hub.example.invalid"`,
      `git-url = ${JSON.stringify(opts.gitUrl)}`,
      ...(opts.cacheUrl === undefined ? [] : [`cache-url = ${JSON.stringify(opts.cacheUrl)}`]),
      "[nix]",
      `store-root = ${JSON.stringify(opts.storeRoot)}`,
      `substituters = ${JSON.stringify(opts.substituters)}`,
      `trusted-public-keys = [${JSON.stringify(opts.publicKey)}]`,
      "[runtime]",
      `state-dir = ${JSON.stringify(opts.stateDir)}`,
      `runc = ${JSON.stringify(fakeRuncPath())}`,
      // No node agent: a private socket path nothing listens on, so every create runs in-process
      // (the default socket may belong to an agent with another config).
      `agent-socket = ${JSON.stringify(join(opts.stateDir, "..", "no-agent.sock"))}`,
      "[telemetry]",
      "enabled = false",
      opts.extra ?? "",
    ].join("\n"),
  );
}

/** Writes `<dir>/config.json`: a CRI container of a pod with `annotations`. */
export async function writeBundle(
  dir: string,
  annotations: Readonly<Record<string, string>>,
  mounts: readonly { destination: string; source: string }[] = [],
): Promise<void> {
  await mkdir(dir, { recursive: true });
  const spec = {
    ociVersion: "1.0.2-dev",
    process: { args: ["hello"], env: ["PATH=/usr/bin:/bin"], cwd: "/" },
    root: { path: "rootfs" },
    mounts: [
      { destination: "/proc", type: "proc", source: "proc" },
      ...mounts.map((m) => ({ ...m, type: "bind", options: ["rbind", "ro"] })),
    ],
    annotations: {
      "io.kubernetes.cri.container-type": "container",
      "io.kubernetes.cri.container-name": "app",
      "io.kubernetes.cri.sandbox-id": "sandbox",
      ...annotations,
    },
  };
  await writeFile(join(dir, "config.json"), JSON.stringify(spec));
}

/** A running `imageless-runc create`; `done` settles with its exit code and runc log. */
export interface CreateRun {
  readonly child: ChildProcess;
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

/**
 * Starts `imageless-runc --log <bundle>/log.json create --bundle <bundle> <id>`; `env` adds to (or
 * replaces parts of) the test's environment, e.g. a PATH with a named fake Nix program first.
 */
export function startCreate(
  configPath: string,
  bundle: string,
  id: string,
  env: Readonly<Record<string, string>> = {},
): CreateRun {
  const child = spawn(
    join(repoRoot(), "bin", "imageless-runc"),
    ["--log", join(bundle, "log.json"), "--log-format", "json", "create", "--bundle", bundle, id],
    {
      env: {
        ...process.env,
        IMAGELESS_CONFIG: configPath,
        XDG_CACHE_HOME: join(bundle, "..", "xdg-cache"),
        ...env,
      },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>(
    (resolve) => child.on("close", (code, signal) => resolve({ code, signal, stderr })),
  );
  return { child, done };
}
