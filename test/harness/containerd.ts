/**
 * A private containerd for one test: its own root, state, sockets and runc root under a temp dir,
 * so two can run at once beside the node's. Host-network pods only (no CNI), the locally built
 * pause image imported, `restrict_oom_score_adj` for machines without CAP_SYS_RESOURCE.
 */
import { execFile, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { connectCri, grpcErrorMessage } from "../../src/cri/cri-client.js";
import {
  type ContainerdPaths,
  containerdPaths,
  type RuntimeHandler,
  renderContainerdConfig,
} from "./cri/containerd-config.js";
import { buildBusyboxImage, PAUSE_IMAGE_REF } from "./images.js";
import { makeTempDir, removeTree } from "./temp.js";

const run = promisify(execFile);

export type { ContainerdPaths, RuntimeHandler } from "./cri/containerd-config.js";
export { containerdPaths, renderContainerdConfig } from "./cri/containerd-config.js";

export interface StartContainerdOptions {
  /** Extra handlers by name (the RuntimeClass handler); `runc` is always there. */
  readonly runtimes?: Readonly<Record<string, RuntimeHandler>>;
  /** Merged into containerd's environment, which the shim and runc (or its wrapper) inherit. */
  readonly env?: Readonly<Record<string, string>>;
  /** Where to put everything; a new temp dir when absent. Removed by `stop()` either way. */
  readonly dir?: string;
  /** Runs on the written config file before containerd starts (e.g. `imageless node install` editing it). */
  readonly beforeStart?: (configFile: string) => Promise<void>;
}

/** A running containerd started by {@link startContainerd}. */
export interface Containerd {
  /** The gRPC (and CRI) socket. */
  readonly socket: string;
  readonly dir: string;
  readonly root: string;
  readonly state: string;
  readonly pid: number;
  /** Its start time in clock ticks since boot: with the PID, what names this process (see stopContainerdAt). */
  readonly startTicks: number;
  /** The environment containerd was started with. */
  readonly env: Readonly<Record<string, string>>;
  /** containerd's stdout and stderr. */
  readonly logFile: string;
  /** Imports an OCI image-layout tarball into namespace k8s.io and waits until CRI sees it. */
  importImage(tar: Buffer): Promise<void>;
  /**
   * Pulls and unpacks an image from a plain-HTTP registry (`ctr images pull --plain-http`: containerd's
   * pull and unpack, as CRI's PullImage runs them) into namespace k8s.io; resolves once CRI sees it.
   */
  pullPlainHttp(ref: string): Promise<void>;
  /** PIDs of the runc shims now serving this containerd (their `-address` is its socket). */
  shimPids(): Promise<number[]>;
  /** Removes pods, stops containerd and leftover shims, unmounts and deletes the dir. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts containerd with a private config and waits until CRI answers and the pause image is in.
 *
 * @example
 * const ctrd = await startContainerd({ runtimes: { flox: { binaryName: "/usr/local/bin/imageless-runc" } } });
 * t.after(() => ctrd.stop());
 */
export async function startContainerd(opts: StartContainerdOptions = {}): Promise<Containerd> {
  const dir = opts.dir ?? (await makeTempDir("containerd"));
  const paths = containerdPaths(dir);
  for (const d of [paths.root, paths.state, paths.cniConfDir, paths.cniBinDir, paths.runcRoot]) {
    await mkdir(d, { recursive: true });
  }
  const configFile = join(dir, "config.toml");
  await writeFile(configFile, renderContainerdConfig(paths, opts.runtimes ?? {}));
  await opts.beforeStart?.(configFile);
  const logFile = join(dir, "containerd.log");
  const env = { ...stringEnv(process.env), ...opts.env };
  const logFd = openSync(logFile, "a");
  const child = spawn("containerd", ["--config", configFile], {
    env,
    cwd: dir,
    stdio: ["ignore", logFd, logFd],
    detached: true,
  });
  closeSync(logFd);
  if (child.pid === undefined) throw new Error(`containerd did not start (see ${logFile})`);
  const pid: number = child.pid;
  const startTicks = processStartTicks(pid) ?? 0;
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exited = true;
      resolve();
    }),
  );
  child.unref();

  const shimPids = () => findShimPids(paths.socket, startTicks);

  let stopped = false;
  async function stop(): Promise<void> {
    if (stopped) return;
    stopped = true;
    if (!exited) await removeAllPods(paths.socket);
    if (!exited) {
      process.kill(pid, "SIGTERM");
      // A referenced timer, cleared after the race: the child is unref'd, so without one the
      // event loop could empty while we wait, and a leftover 10 s timer would delay exit.
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        exit.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), 10_000);
        }),
      ]);
      clearTimeout(timer);
      if (timedOut && !exited) {
        process.kill(pid, "SIGKILL");
        await exit;
      }
    }
    await killLeftovers(paths, startTicks);
    await removeTree(dir);
  }

  const handle: Containerd = {
    socket: paths.socket,
    dir,
    root: paths.root,
    state: paths.state,
    pid,
    startTicks,
    env,
    logFile,
    importImage: (tar) => importImage(paths.socket, join(dir, "images"), tar),
    pullPlainHttp: async (ref) => {
      await run(
        "ctr",
        ["--address", paths.socket, "--namespace", "k8s.io", "images", "pull", "--plain-http", ref],
        {
          maxBuffer: 64 << 20,
        },
      );
      await waitForImages(paths.socket, [ref]);
    },
    shimPids,
    stop,
  };
  try {
    await waitForCri(paths.socket, () => exited, logFile);
    await handle.importImage(buildBusyboxImage(PAUSE_IMAGE_REF));
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
  return handle;
}

/**
 * Stops a containerd that another process started with {@link startContainerd} (the demo's, when the
 * process that started it is gone): its pods, the process (only if the PID still names it), leftover
 * shims and inits, mounts and the dir.
 */
export async function stopContainerdAt(dir: string, pid: number, startTicks: number): Promise<void> {
  const paths = containerdPaths(dir);
  if (isAlive(pid) && processStartTicks(pid) === startTicks) {
    await removeAllPods(paths.socket);
    process.kill(pid, "SIGTERM");
    const deadline = Date.now() + 10_000;
    while (isAlive(pid) && Date.now() < deadline) await sleep(50);
    if (isAlive(pid)) process.kill(pid, "SIGKILL");
  }
  await killLeftovers(paths, startTicks);
  await removeTree(dir);
}

function stringEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) out[key] = value;
  return out;
}

async function waitForCri(socket: string, hasExited: () => boolean, logFile: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  let last = "socket not created";
  while (Date.now() < deadline) {
    if (hasExited()) throw new Error(`containerd exited during start: ${await tail(logFile)}`);
    if (existsSync(socket)) {
      const cri = connectCri(socket);
      try {
        await cri.version();
        return;
      } catch (error) {
        last = grpcErrorMessage(error);
      } finally {
        cri.close();
      }
    }
    await sleep(100);
  }
  throw new Error(`containerd CRI did not answer within 30 s (${last}): ${await tail(logFile)}`);
}

async function tail(file: string): Promise<string> {
  const text = await readFile(file, "utf8").catch(() => "");
  return text.split("\n").slice(-20).join("\n");
}

async function importImage(socket: string, dir: string, tar: Buffer): Promise<void> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${Date.now()}-${Math.random().toString(16).slice(2)}.tar`);
  await writeFile(file, tar);
  try {
    const { stdout } = await run("ctr", [
      "--address",
      socket,
      "--namespace",
      "k8s.io",
      "images",
      "import",
      file,
    ]);
    // ctr prints "unpacking <ref> (sha256:…)...done" per image it imported.
    const refs = [...stdout.matchAll(/^unpacking (\S+) \(/gm)]
      .map((m) => m[1])
      .filter((r) => r !== undefined);
    if (refs.length === 0) throw new Error(`ctr images import named no image: ${stdout}`);
    await waitForImages(socket, refs);
  } finally {
    await rm(file, { force: true });
  }
}

/** CRI learns of imported images from containerd's events, a moment after ctr returns. */
async function waitForImages(socket: string, refs: readonly string[]): Promise<void> {
  const cri = connectCri(socket);
  try {
    const deadline = Date.now() + 10_000;
    for (const ref of refs) {
      while ((await cri.imageStatus(ref)) === null) {
        if (Date.now() > deadline) throw new Error(`CRI does not see imported image ${ref} after 10 s`);
        await sleep(50);
      }
    }
  } finally {
    cri.close();
  }
}

async function removeAllPods(socket: string): Promise<void> {
  const cri = connectCri(socket);
  try {
    const pods = await cri.listPodSandbox().catch(() => []);
    for (const pod of pods) {
      await cri.stopPodSandbox(pod.id).catch(() => undefined);
      await cri.removePodSandbox(pod.id).catch(() => undefined);
    }
  } finally {
    cri.close();
  }
}

/** `<state>/io.containerd.runtime.v2.task/<namespace>/<id>`: containerd 1.6's task bundles. */
async function taskBundles(state: string): Promise<string[]> {
  const base = join(state, "io.containerd.runtime.v2.task");
  const bundles: string[] = [];
  for (const ns of await readdir(base).catch(() => [])) {
    for (const id of await readdir(join(base, ns)).catch(() => [])) bundles.push(join(base, ns, id));
  }
  return bundles;
}

async function readPids(state: string, file: string): Promise<number[]> {
  const pids: number[] = [];
  for (const bundle of await taskBundles(state)) {
    const text = await readFile(join(bundle, file), "utf8").catch(() => "");
    const pid = Number.parseInt(text.trim(), 10);
    if (Number.isInteger(pid) && pid > 1) pids.push(pid);
  }
  return pids;
}

/**
 * After containerd is gone, its shims (and, if a shim died, container inits) may still run; a
 * shim outlives a crashed containerd. Kill them by PID: shims found by their `-address` argument
 * (containerd 1.6.20 writes no shim.pid), inits from each bundle's init.pid. Then drop the shim
 * sockets, which live outside our dir in /run/containerd/s.
 */
async function killLeftovers(paths: ContainerdPaths, notBefore: number): Promise<void> {
  const recorded = [
    ...(await findShimPids(paths.socket, notBefore)),
    ...(await readPids(paths.state, "init.pid")),
  ];
  // A recorded PID may have been reused since; only a process younger than our containerd is ours.
  const pids = recorded.filter((pid) => (processStartTicks(pid) ?? -1) >= notBefore);
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  for (const bundle of await taskBundles(paths.state)) {
    const address = await readFile(join(bundle, "address"), "utf8").catch(() => "");
    const socketPath = address.trim().replace(/^unix:\/\//, "");
    if (socketPath.startsWith("/run/containerd/s/")) await rm(socketPath, { force: true });
  }
  const deadline = Date.now() + 5_000;
  while (pids.some(isAlive) && Date.now() < deadline) await sleep(50);
}

/**
 * Shim processes whose argv holds `-address <socket>`: the socket path lies in our private
 * temp dir, so this matches exactly the shims of one containerd, started after `notBefore`.
 */
async function findShimPids(socket: string, notBefore: number): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir("/proc").catch(() => [])) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = (await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "")).split("\0");
    const at = argv.indexOf("-address");
    if (at < 0 || argv[at + 1] !== socket || !(argv[0] ?? "").includes("containerd-shim")) continue;
    const pid = Number(entry);
    if ((processStartTicks(pid) ?? -1) >= notBefore) pids.push(pid);
  }
  return pids;
}

/** True while a process with this PID exists (and is not a zombie). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // A zombie still answers kill(0); its state letter in /proc/<pid>/stat is Z.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

/** Field 22 of /proc/<pid>/stat: start time in clock ticks since boot; undefined when gone. */
function processStartTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses; count fields after its last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[19]);
    return Number.isFinite(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}
