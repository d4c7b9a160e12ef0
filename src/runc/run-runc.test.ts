import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { fixturePath } from "../../test/harness/repo-root.js";
import { ImagelessError } from "../errors/imageless-error.js";
import { resolveRealRunc, runRealRunc } from "./run-runc.js";

// The fixture is a shell script, not compiled, so it is read from the source tree.
const FAKE_RUNC = fixturePath("fake-runc.sh");
const RUN_RUNC = fileURLToPath(new URL("./run-runc.js", import.meta.url));

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "imageless-run-runc-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("resolveRealRunc()", () => {
  let wrapper = "";
  let selfDir = "";
  let fakeDir = "";
  let plainDir = "";
  before(async () => {
    wrapper = join(dir, "imageless-runc");
    await writeFile(wrapper, "#!/bin/sh\n");
    await chmod(wrapper, 0o755);
    selfDir = join(dir, "self");
    fakeDir = join(dir, "fake");
    plainDir = join(dir, "plain");
    await mkdir(selfDir);
    await mkdir(fakeDir);
    await mkdir(plainDir);
    await symlink(wrapper, join(selfDir, "runc"));
    await symlink(FAKE_RUNC, join(fakeDir, "runc"));
    await writeFile(join(plainDir, "runc"), "not executable");
  });

  it("returns the configured runc as is", () => {
    assert.equal(resolveRealRunc("/usr/sbin/runc", wrapper, ""), "/usr/sbin/runc");
  });

  it("skips the wrapper, non-executable files and empty entries on PATH", () => {
    const path = ["", plainDir, selfDir, fakeDir].join(":");
    assert.equal(resolveRealRunc("", wrapper, path), join(fakeDir, "runc"));
  });

  it("recognises the wrapper through a symlink to itself", () => {
    assert.equal(resolveRealRunc("", join(selfDir, "runc"), `${selfDir}:${fakeDir}`), join(fakeDir, "runc"));
  });

  it("rejects a configured runc that is the wrapper", () => {
    assert.throws(
      () => resolveRealRunc(join(selfDir, "runc"), wrapper, ""),
      (error: unknown) => error instanceof ImagelessError && error.kind === "failed-precondition",
    );
  });

  it("fails clearly when only the wrapper is on PATH", () => {
    assert.throws(
      () => resolveRealRunc("", wrapper, selfDir),
      (error: unknown) =>
        error instanceof ImagelessError &&
        error.kind === "failed-precondition" &&
        error.message.includes("no runc on PATH") &&
        error.message.includes(selfDir),
    );
  });
});

/** Runs runRealRunc in a child Node process, as the wrapper would, so its exit can be observed. */
function runInChild(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  onSpawn?: (pid: number) => void,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const script = `import { runRealRunc } from ${JSON.stringify(RUN_RUNC)};
await runRealRunc(${JSON.stringify(FAKE_RUNC)}, ${JSON.stringify(args)});`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (child.pid !== undefined) onSpawn?.(child.pid);
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
}

describe("runRealRunc()", () => {
  it("passes argv unchanged and exits with runc's code", async () => {
    const log = join(dir, "argv.log");
    const args = ["--root", "/r", "kill", "id with space", "9"];
    const result = await runInChild(args, { FAKE_RUNC_LOG: log, FAKE_RUNC_EXIT: "7" });
    assert.deepEqual(result, { code: 7, signal: null });
    assert.equal(await readFile(log, "utf8"), `${args.join("\x1f")}\n`);
  });

  it("forwards SIGTERM to runc and dies of the same signal", async () => {
    const ready = join(dir, "ready.log");
    let pid = 0;
    const done = runInChild(["start", "x"], { FAKE_RUNC_LOG: ready, FAKE_RUNC_SLEEP: "30" }, (p) => {
      pid = p;
    });
    // Wait until runc (the fake) has started, so the signal is forwarded rather than hitting Node's startup.
    for (let i = 0; i < 100; i += 1) {
      const text = await readFile(ready, "utf8").catch(() => "");
      if (text !== "") break;
      await new Promise((r) => setTimeout(r, 50));
    }
    process.kill(pid, "SIGTERM");
    const result = await done;
    assert.deepEqual(result, { code: null, signal: "SIGTERM" });
  });

  it("rejects with failed-precondition when runc cannot be started", async () => {
    await assert.rejects(runRealRunc(join(dir, "missing-runc"), ["--version"]), (error: unknown) => {
      return (
        error instanceof ImagelessError &&
        error.kind === "failed-precondition" &&
        error.message.includes("ENOENT")
      );
    });
  });
});
