/**
 * The demo on embedded defaults: fixture packages built offline with Nix, an environment `acme/hello`
 * with two generations in a floxmeta repo, a private containerd whose `flox` handler runs
 * imageless-runc, and pods on the empty image that run their command from the environment.
 */
import { join } from "node:path";
import { helloGeneration } from "../test/harness/flox-envs.js";
import { EMPTY_IMAGE_REF, FLOX_HANDLER, startFloxNode } from "../test/harness/flox-node.js";
import { writeFloxmeta } from "../test/harness/floxmeta-fixture.js";
import { buildFixturePackages } from "../test/harness/nix-fixtures.js";
import { readContainerLog, removePod, runPod, waitForExit } from "../test/harness/pod.js";
import { makeTempDir, removeTree } from "../test/harness/temp.js";

const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

async function demo(): Promise<void> {
  const work = await makeTempDir("demo");
  try {
    say("building packages offline into a signed binary cache …");
    const fixtures = await buildFixturePackages(join(work, "fixtures"));
    const { hello, hello2, coreutils } = fixtures.packages;
    await writeFloxmeta(join(work, "floxmeta"), "acme", [
      {
        name: "hello",
        generations: [
          helloGeneration({ hello, coreutils }),
          helloGeneration(
            { hello: hello2, coreutils },
            { vars: { GREETING: "hello from generation 2 of $FLOX_ENV_DESCRIPTION" } },
          ),
        ],
      },
    ]);
    say("starting a private containerd with the flox runtime handler …");
    const node = await startFloxNode({ gitUrl: `file://${join(work, "floxmeta")}`, fixtures });
    try {
      for (const ref of ["acme/hello:1", "acme/hello"]) {
        const started = Date.now();
        const pod = await runPod(node.cri, {
          name: `demo-${ref.replace(/[^a-z0-9]/g, "-")}`,
          runtimeHandler: FLOX_HANDLER,
          annotations: { "flox.dev/environment": ref },
          logDir: node.logDir,
          containers: [
            {
              name: "app",
              image: EMPTY_IMAGE_REF,
              command: [
                "sh",
                "-c",
                'hello; echo "FLOX_ENV=$FLOX_ENV"; [ -n "$GREETING" ] && echo "$GREETING"; true',
              ],
            },
          ],
        });
        try {
          const error = pod.startErrors["app"];
          if (error !== undefined) throw new Error(`pod with ${ref} failed to start: ${error}`);
          const exitCode = await waitForExit(node.cri, pod.containers["app"] ?? "", 60_000);
          const log = await readContainerLog(pod.logPaths["app"] ?? "");
          say(
            `\npod annotated flox.dev/environment: "${ref}" (image ${EMPTY_IMAGE_REF}), exit ${exitCode}, ${Date.now() - started} ms:`,
          );
          for (const line of log.stdout.trimEnd().split("\n")) say(`  | ${line}`);
        } finally {
          await removePod(node.cri, pod.podId);
        }
      }
    } finally {
      await node.stop();
    }
  } finally {
    await removeTree(work);
  }
}

await demo();
