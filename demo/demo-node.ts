/**
 * The demo's node: a config naming the hub as git server and only binary cache (trusting only its
 * key), a private containerd whose `flox` handler runs bin/imageless-runc, and the empty image.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { buildEmptyImage, EMPTY_IMAGE_REF } from "../src/image/empty-image.js";
import { DEMO_DIR, DEMO_NODE_CONFIG } from "../src/pod-runner/demo-paths.js";
import { type Containerd, startContainerd } from "../test/harness/containerd.js";
import { repoRoot } from "../test/harness/repo-root.js";
import { say } from "./output.js";

/** The node: config (hub as git server and only cache, trusting only its key), containerd, empty image. */
export async function startNode(hubUrl: string, hubKey: string): Promise<Containerd> {
  const configPath = DEMO_NODE_CONFIG;
  await writeFile(
    configPath,
    [
      "[floxhub]",
      `url = ${JSON.stringify(hubUrl)}`,
      `git-url = ${JSON.stringify(`${hubUrl}/git`)}`,
      "[nix]",
      `store-root = ${JSON.stringify(join(DEMO_DIR, "node-store"))}`,
      // The hub's cache is per owner: both demo environments belong to "demo".
      `substituters = [${JSON.stringify(`${hubUrl}/cache/demo`)}]`,
      `trusted-public-keys = [${JSON.stringify(hubKey)}]`,
      "[runtime]",
      `state-dir = ${JSON.stringify(join(DEMO_DIR, "node-state"))}`,
      "[telemetry]",
      "enabled = false",
      "",
    ].join("\n"),
  );
  const containerd = await startContainerd({
    dir: join(DEMO_DIR, "containerd"),
    runtimes: { flox: { binaryName: join(repoRoot(), "bin", "imageless-runc") } },
    env: { IMAGELESS_CONFIG: configPath, XDG_CACHE_HOME: join(DEMO_DIR, "xdg-cache") },
  });
  await containerd.importImage(buildEmptyImage());
  say(`    containerd ${containerd.socket}, image ${EMPTY_IMAGE_REF}`);
  return containerd;
}
