import { readdir } from "node:fs/promises";
import { posix } from "node:path";
import { readFileIfExists } from "../../fs/read-if-exists.js";
import { parseContainerdConfig } from "./containerd-config-edit.js";
import {
  type ContainerdFacts,
  type HostFile,
  k3sTemplatePath,
  parseContainerdVersion,
} from "./containerd-target.js";
import { runHostCommand } from "./host-command.js";
import { onHost } from "./host-root.js";

/** containerd's own config (SPEC §8). */
export const CONTAINERD_CONFIG = "/etc/containerd/config.toml";
/** The config k3s renders for its embedded containerd; a template beside it replaces it. */
export const K3S_RENDERED_CONFIG = "/var/lib/rancher/k3s/agent/etc/containerd/config.toml";

// Where a containerd binary lives on a host seen through --host-root (the DaemonSet's /host), where
// PATH is the container's: distribution packages, upstream tarballs, k3s's bundled one.
const CONTAINERD_BINARIES = [
  "/usr/bin/containerd",
  "/usr/local/bin/containerd",
  "/var/lib/rancher/k3s/data/current/bin/containerd",
];

/** Options of {@link detectContainerd}. */
export interface DetectOptions {
  /** The host's `/` as this process sees it (`/host` in the DaemonSet). */
  readonly hostRoot: string;
  /** `--containerd-config`: a host path that overrides detection (a `.tmpl` means k3s). */
  readonly containerdConfig?: string | undefined;
}

/**
 * Finds containerd's version and the config file it reads: `--containerd-config`, else k3s's
 * rendered config when it exists, else /etc/containerd/config.toml (which may be missing). Reads the
 * files; decides nothing about the edit (containerd-target.ts does).
 */
export async function detectContainerd(opts: DetectOptions): Promise<ContainerdFacts> {
  const version = await containerdVersion(opts.hostRoot);
  const read = async (path: string): Promise<HostFile> => ({
    path,
    text: await readFileIfExists(onHost(opts.hostRoot, path)),
  });
  const explicit = opts.containerdConfig;
  if (explicit?.endsWith(".tmpl")) {
    return {
      flavour: "k3s",
      version,
      rendered: await read(posix.join(posix.dirname(explicit), "config.toml")),
      template: await read(explicit),
    };
  }
  if (explicit === undefined) {
    const rendered = await read(K3S_RENDERED_CONFIG);
    if (rendered.text !== undefined) {
      const parsed = parseContainerdConfig(rendered.text, rendered.path);
      const schema = parsed["version"] === 3 ? 3 : 2;
      return {
        flavour: "k3s",
        version,
        rendered,
        template: await read(k3sTemplatePath(rendered.path, schema)),
      };
    }
  }
  const config = await read(explicit ?? CONTAINERD_CONFIG);
  const dropIns: HostFile[] = [];
  for (const path of await importedPaths(config, opts.hostRoot)) dropIns.push(await read(path));
  return { flavour: "containerd", version, config, dropIns };
}

async function containerdVersion(hostRoot: string): Promise<string | undefined> {
  const candidates =
    hostRoot === "/"
      ? ["containerd", ...CONTAINERD_BINARIES]
      : CONTAINERD_BINARIES.map((p) => onHost(hostRoot, p));
  for (const program of candidates) {
    const result = await runHostCommand(program, ["--version"], { timeoutMs: 10_000 });
    if (result.code !== 0) continue;
    const version = parseContainerdVersion(result.stdout);
    if (version !== undefined) return version;
  }
  return undefined;
}

/**
 * The files `imports` names, resolved as containerd does: relative to the importing file, `*` and
 * `?` globs in the last path element, in order. One level (a drop-in's own imports are not followed).
 */
async function importedPaths(config: HostFile, hostRoot: string): Promise<string[]> {
  if (config.text === undefined) return [];
  const imports = parseContainerdConfig(config.text, config.path)["imports"];
  if (!Array.isArray(imports)) return [];
  const paths: string[] = [];
  for (const entry of imports) {
    if (typeof entry !== "string" || entry === "") continue;
    const path = posix.isAbsolute(entry) ? entry : posix.join(posix.dirname(config.path), entry);
    const base = posix.basename(path);
    if (!/[*?[]/.test(base)) {
      paths.push(path);
      continue;
    }
    const dir = posix.dirname(path);
    const pattern = globToRegExp(base);
    const names = await readdir(onHost(hostRoot, dir)).catch(() => [] as string[]);
    for (const name of names.sort()) if (pattern.test(name)) paths.push(posix.join(dir, name));
  }
  return paths;
}

/** Go's filepath.Match for one element: `*`, `?` and `[...]` classes. */
function globToRegExp(glob: string): RegExp {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i] ?? "";
    if (char === "*") source += "[^/]*";
    else if (char === "?") source += "[^/]";
    else if (char === "[") {
      const close = glob.indexOf("]", i + 1);
      if (close < 0) source += "\\[";
      else {
        // Go's negation `[^…]` is also RegExp's; a backslash stays literal.
        source += `[${glob.slice(i + 1, close).replace(/\\/g, "\\\\")}]`;
        i = close;
      }
    } else source += char.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}
