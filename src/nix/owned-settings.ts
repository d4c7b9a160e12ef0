/**
 * The Nix settings this project owns. Every Nix process it starts reads no nix.conf at all — not the
 * host's `/etc/nix/nix.conf`, not root's `~/.config/nix/nix.conf` — and gets its settings from
 * `NIX_CONFIG` (below) plus the per-call `--option`s of {@link storeArgs} (substituters, keys,
 * signatures: from the node config only). So a node without a `nixbld` group, or with a nix.conf that
 * names other caches, keys, `require-sigs = false`, a daemon store or a sandbox, behaves the same.
 */

/**
 * A directory that cannot exist (a path below `/dev/null` fails with ENOTDIR), so Nix finds no
 * `nix.conf` there: Nix treats a missing config file as empty and never creates this directory.
 */
export const NO_CONFIG_DIR = "/dev/null/imageless-owns-nix-settings";

/**
 * The settings every Nix call runs with, one `name = value` a line (pure).
 * - `build-users-group` empty: Nix run as root builds as root instead of a `nixbld` member, so a node
 *   without that group works. The only thing the node builds is `builtin:buildenv` (a profile of links),
 *   which runs inside the Nix process anyway.
 * - `builders =`: no remote builders, and no `machines` file read from the (absent) config directory.
 * - `sandbox = false`: for the host store a sandbox needs namespaces some hosts refuse, and a builtin
 *   builder gains nothing. (A store under another root is always built in a chroot: Nix's own rule.)
 * - `experimental-features = nix-command`: `nix copy` and `nix store sign` (the CLI's uploads).
 * - `substitute = true`, `fallback = false`: a path comes from a substituter or the call fails; no
 *   local build of a package's derivation.
 * - `warn-dirty = false`, `show-trace = false`: quiet, stable stderr that errors are parsed from.
 */
export function ownedNixConfig(): string {
  return [
    "build-users-group =",
    "builders =",
    "sandbox = false",
    "experimental-features = nix-command",
    "substitute = true",
    "fallback = false",
    "warn-dirty = false",
    "show-trace = false",
  ].join("\n");
}

/**
 * Host variables that would change where or how Nix works behind the settings above: a remote or
 * daemon store, other store/state/conf directories, extra config. Removed from every Nix child.
 */
const HOST_NIX_VARIABLES = [
  "NIX_REMOTE",
  "NIX_STORE_DIR",
  "NIX_STORE",
  "NIX_STATE_DIR",
  "NIX_LOG_DIR",
  "NIX_DATA_DIR",
  "NIX_CONF_DIR",
  "NIX_USER_CONF_FILES",
  "NIX_CONFIG",
  "NIX_PATH",
];

/**
 * The environment of a Nix child: `base` (the parent's when omitted) without the host's Nix variables,
 * with the owned settings (pure).
 *
 * @example
 * nixChildEnv({ PATH: "/usr/bin", NIX_REMOTE: "daemon" });
 * // { PATH: "/usr/bin", NIX_CONF_DIR: "/dev/null/…", NIX_USER_CONF_FILES: "/dev/null/…/nix.conf", NIX_CONFIG: "build-users-group =\n…" }
 */
export function nixChildEnv(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const name of HOST_NIX_VARIABLES) delete env[name];
  env["NIX_CONF_DIR"] = NO_CONFIG_DIR;
  env["NIX_USER_CONF_FILES"] = `${NO_CONFIG_DIR}/nix.conf`;
  env["NIX_CONFIG"] = ownedNixConfig();
  return env;
}
