import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  ACTIVATE_SCRIPT,
  activationFiles,
  HOOK_FILE,
  type HookScriptInput,
  hasHook,
  shellArgs,
  varsNeedingShell,
} from "./hook-script.js";

describe("varsNeedingShell()", () => {
  const cases: [string, Record<string, string>, string[]][] = [
    ["none for plain values and $NAME references", { A: "1", B: "$A/x", C: "${HOME}" }, []],
    ["a command substitution", { NOW: "$(date)" }, ["NOW"]],
    ["a default expansion", { X: "${Y:-d}" }, ["X"]],
    ["backticks", { X: "`id -u`" }, ["X"]],
    ["a var referring to a shell-only one, after it", { MSG: "at $NOW", NOW: "$(date)" }, ["NOW", "MSG"]],
    ["transitively", { C: "${B}", B: "$A", A: "$(x)", D: "$C" }, ["A", "B", "C", "D"]],
    ["not a var referring to a plain one", { A: "1", B: "$(echo $A)" }, ["B"]],
  ];
  for (const [name, vars, expected] of cases) {
    it(`varsNeedingShell() finds ${name}`, () => assert.deepEqual(varsNeedingShell(vars), expected));
  }
});

describe("activationFiles()", () => {
  it("activationFiles() is empty without a hook and without shell-only vars", () => {
    assert.deepEqual(activationFiles({ vars: { A: "$HOME/x" } }), {});
    assert.deepEqual(activationFiles({ vars: {}, hook: " \n " }), {});
  });
  it("activationFiles() writes the script and the hook file for a hook", () => {
    const files = activationFiles({ vars: {}, hook: "echo hi" });
    assert.deepEqual(Object.keys(files).sort(), [HOOK_FILE, ACTIVATE_SCRIPT].sort());
    assert.equal(files[HOOK_FILE]?.content, "echo hi\n");
    assert.match(files[ACTIVATE_SCRIPT]?.content ?? "", /source .*hook-on-activate" 1>&2/);
    assert.match(files[ACTIVATE_SCRIPT]?.content ?? "", /exec -- "\$@"\n$/);
  });
  it("activationFiles() writes only the script for shell-only vars, exporting them in order", () => {
    const files = activationFiles({ vars: { MSG: "at $NOW", NOW: "$(date)", PLAIN: "p" } });
    assert.deepEqual(Object.keys(files), [ACTIVATE_SCRIPT]);
    const script = files[ACTIVATE_SCRIPT]?.content ?? "";
    assert.ok(script.indexOf('export NOW="$(date)"') < script.indexOf('export MSG="at $NOW"'), script);
    assert.doesNotMatch(script, /PLAIN|hook-on-activate/);
  });
  it("activationFiles() depends only on its input", () => {
    const input = { vars: { A: "$(x)" }, hook: "true" };
    assert.deepEqual(activationFiles(input), activationFiles(structuredClone(input)));
  });
});

describe("hasHook() and shellArgs()", () => {
  it("hasHook() is false for a missing or blank hook", () => {
    assert.equal(hasHook(undefined), false);
    assert.equal(hasHook("\t\n"), false);
    assert.equal(hasHook("true"), true);
  });
  it("shellArgs() puts bash, its flags and the script before the command", () => {
    assert.deepEqual(shellArgs("/b/bash", "/e/s", ["app", "-x"]), [
      "/b/bash",
      "--noprofile",
      "--norc",
      "/e/s",
      "app",
      "-x",
    ]);
  });
});

// The generated script run by the host's bash, as the container runs it with the environment's.
describe("the activation script under bash", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "imageless-hook-script-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  let count = 0;
  async function runScript(
    input: HookScriptInput,
    args: readonly string[],
    env: Record<string, string> = {},
  ) {
    const root = join(dir, String(count++));
    for (const [path, file] of Object.entries(activationFiles(input))) {
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), file.content);
    }
    const [bash, ...rest] = shellArgs("/bin/bash", join(root, ACTIVATE_SCRIPT), args);
    const result = spawnSync(bash ?? "", rest, {
      env: { PATH: "/usr/bin:/bin", ...env },
      encoding: "utf8",
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  it("exports hook variables to the command and sends the hook's stdout to stderr", async () => {
    const out = await runScript({ vars: {}, hook: "echo from-hook\nexport GREETING=hi" }, [
      "sh",
      "-c",
      'echo "$GREETING"',
    ]);
    assert.deepEqual(out, { code: 0, stdout: "hi\n", stderr: "from-hook\n" });
  });
  it("runs shell-only vars in bash, after the node's env", async () => {
    const out = await runScript(
      { vars: { WHO: "$(echo $BASE)-x", MSG: "${WHO:-none}!" } },
      ["printenv", "MSG"],
      {
        BASE: "b",
      },
    );
    assert.deepEqual(out, { code: 0, stdout: "b-x!\n", stderr: "" });
  });
  it("keeps double quotes and a trailing backslash in a shell-only var", async () => {
    const out = await runScript({ vars: { Q: 'say "hi" $(echo \\"ok\\") \\' } }, ["printenv", "Q"]);
    assert.equal(out.stdout, 'say "hi" "ok" \\\n');
  });
  it("passes the command's exit code through", async () => {
    assert.equal((await runScript({ vars: {}, hook: "true" }, ["sh", "-c", "exit 7"])).code, 7);
  });
  const failing: [string, string][] = [
    ["a non-zero last status", "echo oops >&2\nfalse"],
    ["exit 0", "exit 0"],
    ["exit 5", "echo bye >&2; exit 5"],
    ["return 3", "return 3"],
    ["a syntax error", "if then"],
  ];
  for (const [name, hook] of failing) {
    it(`fails with 1 and does not run the command for a hook with ${name}`, async () => {
      const out = await runScript({ vars: {}, hook }, ["sh", "-c", "echo ran"]);
      assert.equal(out.code, 1, out.stderr);
      assert.equal(out.stdout, "");
      assert.match(out.stderr, /imageless: hook\.on-activate /);
    });
  }
  it("keeps going when the hook's own commands fail before a successful end (errexit off)", async () => {
    const out = await runScript({ vars: {}, hook: "false | true\n$UNSET_VAR_IS_FINE\ntrue" }, ["true"]);
    assert.equal(out.code, 0, out.stderr);
  });
  it("reports a missing command as '<cmd>: command not found' with 127", async () => {
    const out = await runScript({ vars: {}, hook: "true" }, ["no-such-command", "x"]);
    assert.equal(out.code, 127);
    assert.equal(out.stderr, "no-such-command: command not found\n");
  });
});
