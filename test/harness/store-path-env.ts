import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * Writes `<dir>/.flox/env/manifest.toml` installing `packages` (install id → store path) with `vars`,
 * as `flox install` of store paths writes it: what the e2e suites and the demo push to the hub.
 */
export async function writeStorePathEnv(
  dir: string,
  packages: Readonly<Record<string, string>>,
  vars: Readonly<Record<string, string>> = {},
): Promise<void> {
  await mkdir(join(dir, ".flox", "env"), { recursive: true });
  const toml = [
    "version = 1",
    "[install]",
    ...Object.entries(packages).map(([id, path]) => `${id}.store-path = "${path}"`),
    ...(Object.keys(vars).length === 0 ? [] : ["[vars]"]),
    ...Object.entries(vars).map(([k, v]) => `${k} = ${JSON.stringify(v)}`),
    "[options]",
    'systems = ["x86_64-linux"]',
    "",
  ].join("\n");
  await writeFile(join(dir, ".flox", "env", "manifest.toml"), toml);
}
