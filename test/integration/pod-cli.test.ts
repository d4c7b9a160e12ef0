import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { cliUser } from "../harness/hub-cli.js";
import type { ProgramRun } from "../harness/run-program.js";
import { makeTempDir, removeTree } from "../harness/temp.js";

// `imageless pod run` as a user meets it before any containerd is involved: a file it refuses gets
// one line per problem and exit code 2; a missing containerd one line naming the socket and exit 5.

let dir: string;

function cli(args: readonly string[]): Promise<ProgramRun> {
  return cliUser(dir).run(args);
}

before(async () => {
  dir = await makeTempDir("pod-cli");
});
after(() => removeTree(dir));

describe("imageless pod run", () => {
  it("refuses a manifest with one line per problem, before contacting containerd", async () => {
    const file = join(dir, "web.yaml");
    await writeFile(
      file,
      [
        "apiVersion: v1",
        "kind: Pod",
        "metadata: { name: web }",
        "spec:",
        "  restartPolicy: Always",
        "  containers:",
        "    - name: app",
        "      image: localhost/imageless/empty:1.0.0",
        "      resources: { limits: { cpu: 1 } }",
        "",
      ].join("\n"),
    );
    assert.deepEqual(await cli(["pod", "run", file, "--containerd-socket", join(dir, "none.sock")]), {
      code: 2,
      stdout: "",
      stderr: [
        `imageless: ${file}: spec.restartPolicy: imageless pod run never restarts containers; remove it or set Never`,
        `${file}: spec.containers[0].resources: not supported by imageless pod run (supported: name, image, imagePullPolicy, command, args, env, workingDir, volumeMounts, ports)`,
        "",
      ].join("\n"),
    });
  });

  it("says which socket does not answer", async () => {
    const file = join(dir, "ok.yaml");
    await writeFile(
      file,
      "apiVersion: v1\nkind: Pod\nmetadata: { name: ok }\nspec:\n  containers: [{ name: app, image: x }]\n",
    );
    const socket = join(dir, "none.sock");
    const result = await cli(["pod", "run", file, "--containerd-socket", socket]);
    assert.equal(result.code, 5);
    assert.match(
      result.stderr,
      new RegExp(
        `^imageless: containerd does not answer on ${socket} \\(.*\\): start it \\(bash scripts/demo.sh\\) or pass --containerd-socket\\n$`,
      ),
    );
  });
});
