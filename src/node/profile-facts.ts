import { mkdir, readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import type { ActivationDefaults, DevLayout } from "../environment/activation.js";
import { writeFileAtomic } from "../fs/atomic-write.js";
import type { StorePath } from "../nix/store-path.js";
import { environmentDefaults } from "./activation-defaults.js";
import { probeDevLayout } from "./dev-layout.js";

/** What activation needs to know about a built profile: a function of its store path alone. */
export interface ProfileFacts {
  readonly devLayout: DevLayout;
  /** The CA bundle and locale archive the environment or its closure brings. */
  readonly defaults: ActivationDefaults;
}

/** The edges {@link profileFacts} touches. */
export interface ProfileFactsDeps {
  readonly stateDir: string;
  readonly storeRoot: string;
  readonly closure: (paths: readonly StorePath[]) => Promise<readonly StorePath[]>;
}

// Bump when ProfileFacts changes shape: an older file is then probed again.
const VERSION = 1;

/**
 * The facts of `profile`, probed once and remembered in `<state-dir>/profiles/<name>.facts.json`: a
 * store path never changes, and the probe costs a closure query plus dozens of stats, which a
 * steady-state start should not pay. A missing or unreadable file is probed again.
 */
export async function profileFacts(profile: StorePath, deps: ProfileFactsDeps): Promise<ProfileFacts> {
  const file = join(deps.stateDir, "profiles", `${basename(profile)}.facts.json`);
  const known = await readFile(file, "utf8").then(
    (text) => parseFacts(text),
    () => undefined,
  );
  if (known !== undefined) return known;
  const facts: ProfileFacts = {
    devLayout: await probeDevLayout(profile, deps.storeRoot),
    defaults: await environmentDefaults(profile, deps),
  };
  await mkdir(join(deps.stateDir, "profiles"), { recursive: true });
  await writeFileAtomic(file, JSON.stringify({ version: VERSION, ...facts }));
  return facts;
}

// Written only by profileFacts above: the version and the two fields are the contract.
function parseFacts(text: string): ProfileFacts | undefined {
  const value: unknown = JSON.parse(text);
  if (typeof value !== "object" || value === null) return undefined;
  const { version, devLayout, defaults } = value as Record<string, unknown>;
  if (version !== VERSION || typeof devLayout !== "object" || typeof defaults !== "object") return undefined;
  return { devLayout, defaults } as ProfileFacts;
}
