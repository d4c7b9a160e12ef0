import { parseNodeConfig } from "../config.js";

/**
 * The `/etc/imageless/config.toml` install writes when there is none: the defaults of SPEC §7
 * spelled out (taken from the one config parser, so they cannot drift), so an operator sees what
 * to change. With it, real FloxHub environments work: packages come from cache.nixos.org and
 * cache.flox.dev, checked against their published keys. Pure.
 */
export function renderDefaultNodeConfig(): string {
  const { config } = parseNodeConfig("", "defaults");
  const list = (items: readonly string[]) =>
    `[\n${items.map((item) => `  ${JSON.stringify(item)},\n`).join("")}]`;
  const hours = (ms: number) => `${ms / 3_600_000}h`;
  return [
    "# imageless node configuration (docs/configuration.md). Written by `imageless node install` when",
    "# absent; install never overwrites it. `imageless node doctor` checks it.",
    "",
    "[floxhub]",
    `url = ${JSON.stringify(config.floxhub.url)}`,
    '# token-file = "/etc/imageless/floxhub-token"   # node-wide token for private environments',
    `offline-grace = "${hours(config.floxhub.offlineGraceMs)}"`,
    "",
    "[nix]",
    `store-root = ${JSON.stringify(config.nix.storeRoot)}`,
    `substituters = ${list(config.nix.substituters)}`,
    `trusted-public-keys = ${list(config.nix.trustedPublicKeys)}`,
    `require-sigs = ${config.nix.requireSigs}`,
    "",
    "[runtime]",
    `state-dir = ${JSON.stringify(config.runtime.stateDir)}`,
    `mount = ${JSON.stringify(config.runtime.mount)}`,
    "",
    "[gc]",
    `keep-unused = "${hours(config.gc.keepUnusedMs)}"`,
    "",
    "[telemetry]",
    `enabled = ${config.telemetry.enabled}`,
    "",
  ].join("\n");
}
