/**
 * Locates the repository from a compiled test module, for files tsc does not copy to dist/
 * (the CRI .proto, fixture scripts, the Flox-written files under test/fixtures/flox).
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The repository root: the nearest ancestor of this module holding package.json, so it works
 * from `dist/test/harness/repo-root.js` and from the source tree alike.
 *
 * @example
 * const floxFiles = join(repoRoot(), "test/fixtures/flox");
 */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "tsconfig.json"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`repoRoot: no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** `test/fixtures/flox`: real files written by Flox itself (see the README there). */
export function floxFixturesDir(): string {
  return fixturePath("flox");
}

/** `test/fixtures/containerd`: real containerd configs (see the README there). */
export function containerdFixturesDir(): string {
  return fixturePath("containerd");
}

/** A file under `test/fixtures/` in the source tree (fixtures are not compiled). */
export function fixturePath(name: string): string {
  return join(repoRoot(), "test", "fixtures", name);
}
