import { createHash } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { deriveGitBaseUrl } from "../floxhub/git-url.js";
import { createResolveSession, resolveEnvironment } from "../floxhub/resolve.js";
import { writeFileAtomic } from "../fs/atomic-write.js";
import type { Logger } from "../log/logger.js";
import { buildProfile } from "../nix/build-profile.js";
import { queryClosure } from "../nix/closure.js";
import { addGcRoot, removeGcRoot } from "../nix/gc-roots.js";
import { withNetrc } from "../nix/netrc.js";
import type { NixStore } from "../nix/nix-store.js";
import { realisePaths } from "../nix/realise.js";
import { ensureStoreReady } from "../nix/store-init.js";
import { isStorePath, type StorePath } from "../nix/store-path.js";
import type { NodeConfig } from "./config.js";
import { claimContainer, saveContainerRecord, statePaths } from "./container-state.js";
import { prepareEnvCache } from "./env-cache-dir.js";
import { resolveWithGrace } from "./offline-grace.js";
import { profileCache } from "./profile-cache.js";
import { profileFacts } from "./profile-facts.js";
import { readPropagatedBuildInputs } from "./propagated-inputs.js";
import { dropContainerState } from "./release.js";
import { locateBash } from "./shell.js";
import type { StartDeps } from "./start.js";
import { prepareStoreMount } from "./store-mount.js";
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
 * The substituters of a start of an environment owned by `owner`, in the order Nix tries them: the
 * hub's cache for that owner (`<cache-url>/<owner>`, per-owner as the hub scopes it, SPEC §10) when
 * configured, then `[nix] substituters`. Pure.
 *
 * @example
 * substitutersFor("acme", { cacheUrl: "https://hub.example/cache", substituters: ["https://cache.nixos.org"] });
 * // ["https://hub.example/cache/acme", "https://cache.nixos.org"]
 */
export function substitutersFor(
  owner: string,
  opts: { readonly cacheUrl: string; readonly substituters: readonly string[] },
): string[] {
  const hub =
    opts.cacheUrl === "" ? [] : [`${opts.cacheUrl.replace(/\/+$/, "")}/${encodeURIComponent(owner)}`];
  return [...hub, ...opts.substituters];
}

/**
 * The URLs a pod's token may be sent to while Nix substitutes: the hub's cache only (SPEC §7: "the only
 * substituter a pod's token is ever sent to"). The config refuses a substituter on that host, since a
 * netrc matches hosts. Pure.
 */
export function tokenScope(cacheUrl: string): string[] {
  return cacheUrl === "" ? [] : [cacheUrl];
}

/**
 * Wires the start pipeline to the real edges: the token (expiry checked), git with offline grace
 * (SPEC §3), nix, the node store (read for facts, a bash, propagated inputs, the closure skeleton) and
 * the node's state directory (claim, GC roots, record, env cache, overlay; dropped on a failed start).
 */
export function nodeStartDeps(config: NodeConfig, log: Logger): StartDeps {
  const { stateDir } = config.runtime;
  const { storeRoot } = config.nix;
  const store = nodeStore(config);
  const gitBase = deriveGitBaseUrl(config.floxhub.url, config.floxhub.gitUrl || undefined);
  const cacheDir = statePaths(stateDir, "").floxmetaCache;
  const profiles = profileCache(stateDir, storeRoot);
  // Lives as long as these deps: one start in the wrapper, every start of the agent.
  const session = createResolveSession();
  // The run-time closure of store paths, for the profile's facts, a bash, and a closure-only /nix.
  const closure = (paths: readonly StorePath[]) =>
    cachedClosure(paths, stateDir, async () => {
      await ensureStoreReady(store);
      return queryClosure(paths, store);
    });
  const realise: StartDeps["realise"] = async (paths, forEnv, onProgress) => {
    await ensureStoreReady(store);
    const substituters =
      forEnv === undefined
        ? store.substituters
        : substitutersFor(forEnv.owner, {
            cacheUrl: config.floxhub.cacheUrl,
            substituters: store.substituters,
          });
    const scoped = { ...store, substituters };
    return withNetrc(tokenScope(config.floxhub.cacheUrl), forEnv?.token, (netrcFile) =>
      realisePaths(paths, netrcFile === undefined ? scoped : { ...scoped, netrcFile }, onProgress),
    );
  };
  return {
    config,
    log,
    system: nixSystem(),
    readToken: (spec) => readToken(spec, config.floxhub.tokenFile, Date.now()),
    resolve: (ref, token) => {
      // A fresh store root is initialised (`nix-store --init`, tens of ms) while the hub is asked, not
      // after: realise awaits the same promise. A failure here is thrown again by realise's own call.
      ensureStoreReady(store).catch(() => {});
      return resolveWithGrace(
        ref,
        token,
        () => resolveEnvironment(ref, { gitBase, cacheDir, log, session, ...(token ? { token } : {}) }),
        {
          stateDir,
          cacheDir,
          graceMs: config.floxhub.offlineGraceMs,
          log,
          now: Date.now,
        },
      );
    },
    // A pod's token also opens the hub's binary cache for its private environments (SPEC §2: every hub
    // request made for the container), through a netrc that exists only while Nix runs and names the
    // hub cache's host only: no other substituter ever sees it.
    realise,
    buildProfile: (links, name, extraFiles) => buildProfile({ name, packages: links, extraFiles }, store),
    cachedProfile: (key) => profiles.lookup(key),
    rememberProfile: (key, path) => profiles.remember(key, path),
    propagatedInputs: (paths) => readPropagatedBuildInputs(paths, storeRoot),
    claim: (containerId) => claimContainer(stateDir, containerId),
    addGcRoot: (path, link) => addGcRoot(path, link, store),
    removeGcRoot,
    profileFacts: (profile) => profileFacts(profile, { stateDir, storeRoot, closure }),
    locateBash: (outputs, profile, why) =>
      locateBash(outputs, profile, why, { storeRoot, configShell: config.runtime.shell, closure, realise }),
    prepareEnvCache,
    prepareStoreMount: (input) => prepareStoreMount({ ...input, stateDir, storeRoot, closure }),
    saveRecord: (record) => saveContainerRecord(stateDir, record),
    dropState: (containerId) => dropContainerState(containerId, { stateDir, log, removeGcRoot }),
    now: () => Date.now(),
  };
}

export { removeGcRoot };

/**
 * The closure of `paths`, remembered in the state directory: a store path's closure never changes,
 * and `[runtime] mount = "closure"` needs it on every start, where a `nix-store -qR` costs ~40 ms.
 */
async function cachedClosure(
  paths: readonly StorePath[],
  stateDir: string,
  query: () => Promise<readonly StorePath[]>,
): Promise<readonly StorePath[]> {
  const key = createHash("sha256")
    .update([...paths].sort().join("\n"))
    .digest("hex");
  const file = join(stateDir, "closures", key);
  const known = await readFile(file, "utf8").catch(() => undefined);
  if (known !== undefined) {
    const listed = known.split("\n").filter(isStorePath);
    // The file lists the closure then "end": a torn or foreign file is queried again.
    if (known.endsWith("\nend\n") && listed.length > 0) return listed;
  }
  const closure = await query();
  await mkdir(join(stateDir, "closures"), { recursive: true, mode: 0o700 });
  await writeFileAtomic(file, `${closure.join("\n")}\nend\n`);
  return closure;
}
