import { lstat } from "node:fs/promises";
import { join, posix } from "node:path";
import type { ActivationDefaults } from "../environment/activation.js";
import { ImagelessError } from "../errors/imageless-error.js";
import { isStorePath, type StorePath } from "../nix/store-path.js";
import { CA_BUNDLE_FILE, fileInProfile, LOCALE_ARCHIVE_FILE } from "./dev-layout.js";

/** The edges {@link locateDefaults} touches. */
export interface LocateDefaultsDeps {
  readonly storeRoot: string;
  /** `[runtime] cacert`, `""` when unset. */
  readonly configCacert: string;
  /** `[runtime] locales`, `""` when unset. */
  readonly configLocales: string;
  /** The run-time closure of store paths (nix-store --query --requisites). */
  readonly closure: (paths: readonly StorePath[]) => Promise<readonly StorePath[]>;
  /** Realises store paths from the node's substituters. */
  readonly realise: (paths: readonly StorePath[]) => Promise<unknown>;
}

/** The defaults, and the store paths from the node config the container must keep alive. */
export interface LocatedDefaults {
  readonly defaults: ActivationDefaults;
  /** Store paths realised from `[runtime] cacert` / `[runtime] locales`, each to be rooted. */
  readonly configPaths: { readonly cacert?: StorePath; readonly locales?: StorePath };
}

/**
 * The CA bundle and locale archive an environment brings itself: its own
 * `etc/ssl/certs/ca-bundle.crt` / `lib/locale/locale-archive`, else the file in a package of its
 * closure. A function of the profile's store path only, so it is worth remembering per profile.
 */
export async function environmentDefaults(
  profile: StorePath,
  deps: Pick<LocateDefaultsDeps, "storeRoot" | "closure">,
): Promise<ActivationDefaults> {
  let closure: readonly StorePath[] | undefined;
  const find = async (file: string): Promise<string | undefined> => {
    const own = await fileInProfile(profile, file, deps.storeRoot);
    if (own !== undefined) return own;
    closure ??= await deps.closure([profile]);
    for (const path of closure) {
      if (await existsInStore(posix.join(path, file), deps.storeRoot)) return posix.join(path, file);
    }
    return undefined;
  };
  const caBundle = await find(CA_BUNDLE_FILE);
  const localeArchive = await find(LOCALE_ARCHIVE_FILE);
  return {
    ...(caBundle === undefined ? {} : { caBundle }),
    ...(localeArchive === undefined ? {} : { localeArchive }),
  };
}

/**
 * Completes what the environment brings ({@link environmentDefaults}) with the node config: Flox
 * defaults SSL_CERT_FILE, NIX_SSL_CERT_FILE and LOCALE_ARCHIVE to copies its own interpreter
 * carries, which a node does not have, so `[runtime] cacert` / `[runtime] locales` (realised like the
 * packages) stand in; without them the variable stays unset.
 *
 * @throws {ImagelessError} `invalid-input` for a config value that is not under /nix/store.
 */
export async function locateDefaults(
  fromEnvironment: ActivationDefaults,
  deps: Pick<LocateDefaultsDeps, "configCacert" | "configLocales" | "realise">,
): Promise<LocatedDefaults> {
  const defaults: { caBundle?: string; localeArchive?: string } = { ...fromEnvironment };
  const configPaths: { cacert?: StorePath; locales?: StorePath } = {};
  if (defaults.caBundle === undefined && deps.configCacert !== "") {
    const { storePath, file } = configStoreFile(deps.configCacert, CA_BUNDLE_FILE, "cacert");
    await deps.realise([storePath]);
    defaults.caBundle = file;
    configPaths.cacert = storePath;
  }
  if (defaults.localeArchive === undefined && deps.configLocales !== "") {
    const { storePath, file } = configStoreFile(deps.configLocales, LOCALE_ARCHIVE_FILE, "locales");
    await deps.realise([storePath]);
    defaults.localeArchive = file;
    configPaths.locales = storePath;
  }
  return { defaults, configPaths };
}

/**
 * Splits a `[runtime]` value naming a package's store path (then `file` inside it) or a file inside
 * one into the store path to realise and the file. Pure.
 *
 * @throws {ImagelessError} `invalid-input` naming the key when the value is not under /nix/store.
 * @example
 * configStoreFile("/nix/store/abc…-nss-cacert-3.98", "etc/ssl/certs/ca-bundle.crt", "cacert");
 * // { storePath: "/nix/store/abc…-nss-cacert-3.98", file: "/nix/store/abc…-nss-cacert-3.98/etc/ssl/certs/ca-bundle.crt" }
 */
export function configStoreFile(
  value: string,
  file: string,
  key: string,
): { storePath: StorePath; file: string } {
  const top = value.split("/").slice(0, 4).join("/");
  if (!isStorePath(top)) {
    throw new ImagelessError(
      "invalid-input",
      `config [runtime] ${key}: cannot use "${value}": accepted value is a store path like /nix/store/<hash>-<name> (or a file inside one)`,
    );
  }
  const trimmed = value.replace(/\/+$/, "");
  return { storePath: top, file: trimmed === top ? `${top}/${file}` : trimmed };
}

async function existsInStore(path: string, storeRoot: string): Promise<boolean> {
  const real = storeRoot === "/" ? path : join(storeRoot, path);
  return lstat(real).then(
    () => true,
    () => false,
  );
}
