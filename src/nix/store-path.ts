/** An absolute Nix store path as Nix names it (`/nix/store/<hash>-<name>`), independent of the store root. */
export type StorePath = string & { readonly brand: "StorePath" };

const STORE_PATH = /^\/nix\/store\/[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+\-._?=]+$/;

/** True when `value` is a well-formed store path (top-level, no sub-path). */
export function isStorePath(value: string): value is StorePath {
  return STORE_PATH.test(value);
}
