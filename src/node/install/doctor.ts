import { access, constants, readFile, stat } from "node:fs/promises";
import { posix } from "node:path";
import { fileURLToPath } from "node:url";
import { ImagelessError } from "../../errors/imageless-error.js";
import { runNix } from "../../nix/run-nix.js";
import { FLOX_ANNOTATION_GLOB } from "../../pod/annotations.js";
import { loadNodeConfig, type NodeConfig } from "../config.js";
import { jwtExpiry } from "../jwt.js";
import { criRuntimePlugin, FLOX_HANDLER, parseContainerdConfig, tableAt } from "./containerd-config-edit.js";
import { CONTAINERD_CONFIG, K3S_RENDERED_CONFIG } from "./detect.js";
import { runHostCommand } from "./host-command.js";
import { onHost } from "./host-root.js";
import { loadInstallRecord } from "./install-record.js";
import { RELEASE_PROGRAMS } from "./release-files.js";
import { currentRelease, releaseLayout } from "./release-install.js";

/** One finding of `imageless node doctor`. */
export interface DoctorCheck {
  readonly name: string;
  readonly ok: boolean;
  /** What was found. */
  readonly detail: string;
  /** What to do, for a problem. */
  readonly fix?: string;
}

/** Options of {@link runDoctor}; paths are host paths. */
export interface DoctorOptions {
  readonly hostRoot: string;
  readonly prefix: string;
  /** The node config (`IMAGELESS_CONFIG` or /etc/imageless/config.toml). */
  readonly nodeConfigPath: string;
  readonly containerdConfig?: string | undefined;
  /** The version of this CLI; the installed release should carry the same. */
  readonly version: string;
  readonly now: number;
}

const ok = (name: string, detail: string): DoctorCheck => ({ name, ok: true, detail });
const problem = (name: string, detail: string, fix: string): DoctorCheck => ({
  name,
  ok: false,
  detail,
  fix,
});

/**
 * Checks the flox runtime as containerd has loaded it, from `containerd config dump` (the merged
 * config, imports included): the handler exists, runs the runc shim with the wrapper as runc, and
 * passes `flox.dev/*` annotations. Pure.
 */
export function checkLiveRuntime(dump: Readonly<Record<string, unknown>>, binaryName: string): DoctorCheck {
  const name = "containerd: flox runtime";
  const runtime = ([2, 3] as const)
    .map((schema) =>
      tableAt(dump, ["plugins", criRuntimePlugin(schema), "containerd", "runtimes", FLOX_HANDLER]),
    )
    .find((table) => table !== undefined);
  if (runtime === undefined) {
    const imports = Array.isArray(dump["imports"]) && dump["imports"].length > 0;
    return problem(
      name,
      imports
        ? `containerd has no "${FLOX_HANDLER}" runtime loaded; its config imports ${JSON.stringify(dump["imports"])}, and in containerd 1.x a drop-in that sets the CRI plugin replaces the whole section`
        : `containerd has no "${FLOX_HANDLER}" runtime loaded (pods fail with: no runtime for "flox" is configured)`,
      "run `imageless node install` (it puts the runtime where it survives drop-ins), then restart containerd",
    );
  }
  const problems: string[] = [];
  if (runtime["runtime_type"] !== "io.containerd.runc.v2")
    problems.push(`runtime_type is ${JSON.stringify(runtime["runtime_type"])}, not "io.containerd.runc.v2"`);
  for (const key of ["pod_annotations", "container_annotations"]) {
    const list = runtime[key];
    if (!Array.isArray(list) || !list.includes(FLOX_ANNOTATION_GLOB))
      problems.push(`${key} lacks "${FLOX_ANNOTATION_GLOB}"`);
  }
  const options = tableAt(runtime, ["options"]);
  const binary = options?.["BinaryName"] ?? options?.["binary_name"];
  if (binary !== binaryName)
    problems.push(`options.BinaryName is ${JSON.stringify(binary ?? "")}, not "${binaryName}"`);
  if (problems.length > 0) {
    return problem(name, problems.join("; "), "run `imageless node install` and restart containerd");
  }
  return ok(name, `loaded: BinaryName ${binaryName}, annotations ${FLOX_ANNOTATION_GLOB}`);
}

/** Checks the token file: readable, and when a JWT, not expired. Pure over what was read. */
export function checkToken(path: string, text: string | undefined, now: number): DoctorCheck {
  const name = "floxhub: node token";
  if (text === undefined)
    return problem(name, `${path} cannot be read`, `create it (root-only) or unset [floxhub] token-file`);
  const token = text.trim();
  if (token === "") return problem(name, `${path} is empty`, "write the node's FloxHub token into it");
  const expiry = jwtExpiry(token);
  if (expiry !== undefined && expiry <= now) {
    return problem(
      name,
      `the token in ${path} expired at ${new Date(expiry).toISOString()}`,
      "create a new token (imageless auth token or the hub's org machine tokens) and write it there",
    );
  }
  return ok(
    name,
    expiry === undefined ? `${path} readable` : `${path} readable, expires ${new Date(expiry).toISOString()}`,
  );
}

/** `imageless node doctor`: every check, in order; the node is well when all are ok. */
export async function runDoctor(opts: DoctorOptions): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const local = (path: string) => onHost(opts.hostRoot, path);
  let config: NodeConfig | undefined;
  try {
    config = (await loadNodeConfig(local(opts.nodeConfigPath), { strict: true })).config;
    checks.push(ok("node config", `${opts.nodeConfigPath} is valid`));
  } catch (error) {
    const message = error instanceof ImagelessError ? error.message : String(error);
    const missing = error instanceof ImagelessError && error.kind === "not-found";
    checks.push(
      problem(
        "node config",
        message,
        missing
          ? "run `imageless node install` (it writes the default) or create the file"
          : `fix ${opts.nodeConfigPath} (docs/configuration.md lists every key)`,
      ),
    );
  }
  const binaryName = posix.join(opts.prefix, RELEASE_PROGRAMS.runc);
  checks.push(await checkContainerd(opts, binaryName));
  checks.push(await checkBinaries(opts, binaryName));
  if (config !== undefined) {
    checks.push(await checkNix(config));
    for (const url of config.nix.substituters)
      checks.push(await checkReachable(`substituter ${url}`, `${url.replace(/\/$/, "")}/nix-cache-info`));
    checks.push(await checkReachable(`floxhub ${config.floxhub.url}`, config.floxhub.url));
    if (config.floxhub.tokenFile !== "") {
      const text = await readFile(local(config.floxhub.tokenFile), "utf8").catch(() => undefined);
      checks.push(checkToken(config.floxhub.tokenFile, text, opts.now));
    }
  }
  return checks;
}

async function checkContainerd(opts: DoctorOptions, binaryName: string): Promise<DoctorCheck> {
  const k3s = await stat(onHost(opts.hostRoot, K3S_RENDERED_CONFIG)).then(
    () => true,
    () => false,
  );
  const configPath =
    opts.containerdConfig?.replace(/\/config(-v3)?\.toml\.tmpl$/, "/config.toml") ??
    (k3s ? K3S_RENDERED_CONFIG : CONTAINERD_CONFIG);
  const args = ["--config", onHost(opts.hostRoot, configPath), "config", "dump"];
  const result = await runHostCommand("containerd", args, { timeoutMs: 30_000 });
  if (result.code !== 0) {
    return problem(
      "containerd: flox runtime",
      `\`containerd ${args.join(" ")}\` failed: ${result.stderr.trim().split("\n").at(-1) ?? ""}`,
      "install containerd ≥ 1.6 (or pass --containerd-config with the file it reads)",
    );
  }
  let dump: Record<string, unknown>;
  try {
    dump = parseContainerdConfig(result.stdout, "(containerd config dump)");
  } catch (error) {
    return problem(
      "containerd: flox runtime",
      String(error),
      "report this: containerd printed a config that is not TOML",
    );
  }
  return checkLiveRuntime(dump, binaryName);
}

async function checkBinaries(opts: DoctorOptions, binaryName: string): Promise<DoctorCheck> {
  const name = "node programs";
  const local = onHost(opts.hostRoot, binaryName);
  const executable = await access(local, constants.X_OK).then(
    () => true,
    () => false,
  );
  if (!executable)
    return problem(name, `${binaryName} is missing or not executable`, "run `imageless node install`");
  const release = await currentRelease(opts);
  const record = await loadInstallRecord(opts.hostRoot, releaseLayout(opts.prefix).record).catch(
    () => undefined,
  );
  const installed = release ?? record?.release ?? "(unknown)";
  if (!installed.startsWith(`${opts.version}-`)) {
    return problem(
      name,
      `installed release ${installed} is not version ${opts.version} (this CLI)`,
      "run `imageless node install` from this build to upgrade",
    );
  }
  return ok(name, `${binaryName} (release ${installed})`);
}

async function checkNix(config: NodeConfig): Promise<DoctorCheck> {
  const name = "nix";
  let version: string;
  try {
    version = (
      await runNix("nix-store", ["--version"], { action: "asking nix-store for its version" })
    ).trim();
  } catch (error) {
    return problem(
      name,
      error instanceof Error ? error.message : String(error),
      "install Nix ≥ 2.8 on the node (nix-store on root's PATH)",
    );
  }
  const match = /(\d+)\.(\d+)/.exec(version);
  const tooOld = match !== null && (Number(match[1]) < 2 || (Number(match[1]) === 2 && Number(match[2]) < 8));
  if (tooOld) return problem(name, `${version} is older than 2.8`, "upgrade Nix to ≥ 2.8");
  const store = posix.join(config.nix.storeRoot, "nix", "store");
  const found = await stat(store).then(
    (info) => (info.isDirectory() ? "dir" : "other"),
    () => "missing",
  );
  if (found === "other")
    return problem(name, `${version}; ${store} is not a directory`, "fix [nix] store-root");
  // A store root that does not exist yet is made by Nix at the first start, as on a fresh node.
  if (found === "missing")
    return ok(name, `${version}; store ${store} not created yet (the first start creates it)`);
  return ok(name, `${version}; store ${store}`);
}

async function checkReachable(name: string, url: string): Promise<DoctorCheck> {
  if (url.startsWith("file://")) {
    const found = await stat(fileURLToPath(url)).then(
      () => true,
      () => false,
    );
    return found
      ? ok(name, "readable")
      : problem(name, `${url} does not exist`, "fix the URL in the node config");
  }
  try {
    const response = await fetch(url, {
      method: "GET",
      signal: AbortSignal.timeout(10_000),
      redirect: "manual",
    });
    await response.body?.cancel();
    if (response.status >= 500)
      return problem(
        name,
        `answered HTTP ${response.status}`,
        "check the service, or the URL in the node config",
      );
    return ok(name, `reachable (HTTP ${response.status})`);
  } catch (error) {
    const cause =
      error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
    return problem(
      name,
      `not reachable: ${cause}`,
      "check the node's network, proxy and DNS, or the URL in the node config",
    );
  }
}

/** The checks as a person reads them: one line each, the fix under a problem. Pure. */
export function formatDoctor(checks: readonly DoctorCheck[]): string {
  const lines = checks.flatMap((check) =>
    check.ok
      ? [`ok       ${check.name}: ${check.detail}`]
      : [`PROBLEM  ${check.name}: ${check.detail}`, `         fix: ${check.fix ?? ""}`],
  );
  const bad = checks.filter((check) => !check.ok).length;
  lines.push(bad === 0 ? "all well" : `${bad} problem(s)`);
  return `${lines.join("\n")}\n`;
}
