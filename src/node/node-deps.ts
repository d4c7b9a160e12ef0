import { deriveGitBaseUrl } from "../floxhub/git-url.js";
import { createResolveSession, resolveEnvironment } from "../floxhub/resolve.js";
import type { Logger } from "../log/logger.js";
import { buildProfile } from "../nix/build-profile.js";
import { queryClosure } from "../nix/closure.js";
import { addGcRoot, removeGcRoot } from "../nix/gc-roots.js";
import { withNetrc } from "../nix/netrc.js";
import type { NixStore } from "../nix/nix-store.js";
import { realisePaths } from "../nix/realise.js";
import type { NodeConfig } from "./config.js";
import { statePaths } from "./container-state.js";
import { resolveWithGrace } from "./offline-grace.js";
import { profileCache } from "./profile-cache.js";
import type { StartDeps } from "./start.js";
import { nixSystem } from "./system.js";
import { readToken } from "./token.js";

/** The Nix store the node config describes. */
export function nodeStore(config: NodeConfig): NixStore {
  return {
    storeRoot: config.nix.storeRoot,
    substituters: [...config.nix.substituters],
    trustedPublicKeys: [...config.nix.trustedPublicKeys],
    requireSigs: config.nix.requireSigs,
  };
}

/**
 * Wires the start pipeline to the real edges: the token (expiry checked), git with offline grace
 * (SPEC §3), nix and the node's state directory.
 */
export function nodeStartDeps(config: NodeConfig, log: Logger): StartDeps {
  const store = nodeStore(config);
  const gitBase = deriveGitBaseUrl(config.floxhub.url, config.floxhub.gitUrl || undefined);
  const cacheDir = statePaths(config.runtime.stateDir, "").floxmetaCache;
  const profiles = profileCache(config.runtime.stateDir, config.nix.storeRoot);
  // Lives as long as these deps: one start in the wrapper, every start of the agent.
  const session = createResolveSession();
  return {
    config,
    log,
    system: nixSystem(),
    readToken: (spec) => readToken(spec, config.floxhub.tokenFile, Date.now()),
    resolve: (ref, token) =>
      resolveWithGrace(
        ref,
        token,
        () => resolveEnvironment(ref, { gitBase, cacheDir, log, session, ...(token ? { token } : {}) }),
        {
          stateDir: config.runtime.stateDir,
          cacheDir,
          graceMs: config.floxhub.offlineGraceMs,
          log,
          now: Date.now,
        },
      ),
    // A pod's token also opens the hub's binary cache for its private environments (SPEC §2: every hub
    // request made for the container), through a netrc that exists only while Nix runs.
    realise: (paths, token) =>
      withNetrc(store.substituters, token, (netrcFile) =>
        realisePaths(paths, netrcFile === undefined ? store : { ...store, netrcFile }),
      ),
    buildProfile: (links, name, extraFiles) => buildProfile({ name, packages: links, extraFiles }, store),
    closure: (paths) => queryClosure(paths, store),
    addGcRoot: (path, link) => addGcRoot(path, link, store),
    cachedProfile: (key) => profiles.lookup(key),
    rememberProfile: (key, path) => profiles.remember(key, path),
    removeGcRoot,
    now: () => Date.now(),
  };
}

export { removeGcRoot };
