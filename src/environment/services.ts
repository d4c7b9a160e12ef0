import type { Manifest } from "./manifest.js";

/**
 * The names of the manifest's `[services]`, sorted; `auto-start` (schema 1.12), which sits beside
 * them, is not a service. Pure.
 *
 * @example
 * serviceNames(manifest); // ["db", "web"]
 */
export function serviceNames(manifest: Manifest): string[] {
  const services = manifest.services;
  if (typeof services !== "object" || services === null || Array.isArray(services)) return [];
  return Object.entries(services)
    .filter(([, value]) => typeof value === "object" && value !== null && !Array.isArray(value))
    .map(([name]) => name)
    .sort();
}

/** The line the container's log gets when the manifest has services this runtime does not start. */
export function servicesWarning(names: readonly string[]): string {
  return `imageless: warning: [services] are not supported: not started: ${names.join(", ")}; the command runs without them`;
}
