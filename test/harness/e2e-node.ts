/**
 * The setup most e2e suites share, registered once with node:test: a temp dir, the fixture packages,
 * owner `acme`'s floxmeta holding the suite's environments (served over git smart HTTP when asked),
 * and one node resolving from it. After the suite everything is stopped and removed, also when the
 * setup failed half-way; the node's own `stop()` still proves it left nothing behind (leaks.ts).
 */
import { join } from "node:path";
import { after, before } from "node:test";
import { type FloxNode, type FloxNodeOptions, startFloxNode } from "./flox-node.js";
import { type FixtureEnv, writeFloxmeta } from "./floxmeta-fixture.js";
import { type GitHttpServer, serveGit } from "./git-http-server.js";
import { buildFixturePackages, type Fixtures } from "./nix-fixtures.js";
import { makeTempDir, removeTree } from "./temp.js";

/** The owner whose floxmeta the suite's environments are written to. */
export const E2E_OWNER = "acme";

/** Node options a suite may add; the git URL and the fixtures come from the setup. */
export type E2eNodeExtras = Omit<FloxNodeOptions, "gitUrl" | "fixtures">;

/** What {@link useFloxNode} sets up. */
export interface E2eNodeOptions {
  /** `acme`'s environments, written before the node starts (`acme/<name>` in annotations). */
  readonly environments: (fixtures: Fixtures) => readonly FixtureEnv[];
  /** Serve the floxmeta over git smart HTTP (the hub's protocol) instead of `file://`. */
  readonly serveGit?: { readonly requireToken?: string };
  /** More node options, made once the fixtures and floxmeta exist (e.g. from files put under `work`). */
  readonly node?: (setup: { work: string; fixtures: Fixtures }) => E2eNodeExtras | Promise<E2eNodeExtras>;
  /** Runs once the node is up, still inside the setup (e.g. config edits, files the tests mount). */
  readonly afterStart?: (setup: E2eNode) => Promise<void>;
  /** Runs before the node stops, e.g. to wait for something the node started in the background. */
  readonly beforeStop?: (node: FloxNode) => Promise<void>;
}

/** The suite's setup, readable from its tests and hooks once the setup's `before` has run. */
export interface E2eNode {
  /** The suite's temp dir (fixtures, floxmeta, anything the suite adds); removed after the suite. */
  readonly work: string;
  readonly fixtures: Fixtures;
  /** The root the floxmeta repositories are under (for addGeneration, switchLive). */
  readonly floxmetaRoot: string;
  /** The git base URL the node resolves from: `file://<floxmetaRoot>` or the served `http://…/git`. */
  readonly gitUrl: string;
  /** The git server, with `serveGit` only. */
  readonly git: GitHttpServer;
  readonly node: FloxNode;
}

/**
 * Registers the suite's `before` (set up) and `after` (tear down) and returns a handle whose fields
 * can be read once `before` has run. Setup that needs the node goes in `afterStart`, not in a
 * `before` of the suite's own: Node 20 runs a file's top-level `before` hooks concurrently.
 *
 * @example
 * const e2e = useFloxNode("mixed", {
 *   environments: ({ packages }) => [{ name: "hello", generations: [helloGeneration(packages)] }],
 * });
 * it("runs", async () => { await runPod(e2e.node.cri, { ... }); });
 */
export function useFloxNode(name: string, options: E2eNodeOptions): E2eNode {
  let work: string | undefined;
  let fixtures: Fixtures | undefined;
  let git: GitHttpServer | undefined;
  let gitUrl: string | undefined;
  let node: FloxNode | undefined;

  before(async () => {
    work = await makeTempDir(name);
    fixtures = await buildFixturePackages(join(work, "fixtures"));
    const floxmetaRoot = join(work, "floxmeta");
    await writeFloxmeta(floxmetaRoot, E2E_OWNER, options.environments(fixtures));
    if (options.serveGit !== undefined) git = await serveGit(floxmetaRoot, options.serveGit);
    gitUrl = git?.url ?? `file://${floxmetaRoot}`;
    const extras = (await options.node?.({ work, fixtures })) ?? {};
    node = await startFloxNode({ ...extras, gitUrl, fixtures });
    await options.afterStart?.(handle);
  });

  after(async () => {
    try {
      if (node !== undefined) {
        try {
          await options.beforeStop?.(node);
        } finally {
          await node.stop();
        }
      }
    } finally {
      await git?.close();
      if (work !== undefined) await removeTree(work);
    }
  });

  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined)
      throw new Error(`useFloxNode("${name}"): ${what} is read before its before() ran`);
    return value;
  };
  const handle: E2eNode = {
    get work() {
      return ready(work, "work");
    },
    get fixtures() {
      return ready(fixtures, "fixtures");
    },
    get floxmetaRoot() {
      return join(ready(work, "work"), "floxmeta");
    },
    get gitUrl() {
      return ready(gitUrl, "gitUrl");
    },
    get git() {
      return ready(git, "git (pass serveGit)");
    },
    get node() {
      return ready(node, "node");
    },
  };
  return handle;
}
