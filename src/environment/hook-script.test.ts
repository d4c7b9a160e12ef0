import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  ACTIVATE_SCRIPT,
  type ActivationPhase,
  activationFiles,
  HOOK_FILE,
  type HookScriptInput,
  hasHook,
  outdentScript,
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

describe("outdentScript()", () => {
  // The cases of Flox's buildenvLib outdentText tests, written out here.
  const cases: [string, string, string][] = [
    ["no common indent", "no indent\n  2 spaces\n    4 spaces\n", "no indent\n  2 spaces\n    4 spaces\n"],
    ["two spaces", "  2 spaces\n    4 spaces\n", "2 spaces\n  4 spaces\n"],
    ["a tab is text", "  2 spaces\n\t1 tab\n", "  2 spaces\n\t1 tab\n"],
    ["an empty line between", "  a\n\n    b\n", "a\n\n  b\n"],
    ["an empty line first", "\n  a\n    b\n", "\na\n  b\n"],
    ["CRLF endings", "  a\r\n    b\r\n", "a\r\n  b\r\n"],
    ["tabs only", "\t1\n\t\t2\n", "\t1\n\t\t2\n"],
    ["a blank line counts", "    a\n  \n    b", "  a\n\n  b"],
    ["empty text", "", ""],
  ];
  for (const [name, input, expected] of cases) {
    it(`outdentScript() handles ${name}`, () => assert.equal(outdentScript(input), expected));
  }
});

describe("activationFiles()", () => {
  it("activationFiles() is empty without a hook, shell-only vars or profile.d scripts", () => {
    assert.deepEqual(activationFiles({ vars: { A: "$HOME/x" } }), {});
    assert.deepEqual(activationFiles({ vars: {}, hook: " \n " }), {});
  });
  it("activationFiles() writes the script and the outdented hook file for a hook", () => {
    const files = activationFiles({ vars: {}, hook: "  echo hi\n    echo there" });
    assert.deepEqual(Object.keys(files).sort(), [HOOK_FILE, ACTIVATE_SCRIPT].sort());
    assert.equal(files[HOOK_FILE]?.content, "echo hi\n  echo there\n");
    assert.match(
      files[ACTIVATE_SCRIPT]?.content ?? "",
      /source "\$FLOX_ENV\/activate.d\/hook-on-activate" 1>&2/,
    );
    assert.match(files[ACTIVATE_SCRIPT]?.content ?? "", /exec -- "\$@"\n$/);
  });
  it("activationFiles() writes only the script for shell-only vars, exporting them in order", () => {
    const files = activationFiles({ vars: { MSG: "at $NOW", NOW: "$(date)", PLAIN: "p" } });
    assert.deepEqual(Object.keys(files), [ACTIVATE_SCRIPT]);
    const script = files[ACTIVATE_SCRIPT]?.content ?? "";
    assert.ok(script.indexOf('export NOW="$(date)"') < script.indexOf('export MSG="at $NOW"'), script);
    assert.doesNotMatch(script, /PLAIN|hook-on-activate/);
  });
  it("activationFiles() writes the script for dev mode's profile.d scripts", () => {
    const script = activationFiles({ vars: {}, profileScripts: true })[ACTIVATE_SCRIPT]?.content ?? "";
    assert.match(script, /etc\/profile\.d\/\*\.sh/);
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
  it("shellArgs() puts bash, its flags, the script, the phase and the record before the command", () => {
    assert.deepEqual(shellArgs("/b/bash", "/e/s", ["app", "-x"], { phase: "start", record: "/r" }), [
      "/b/bash",
      "--noprofile",
      "--norc",
      "/e/s",
      "start",
      "/r",
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
  /** Writes the files as $FLOX_ENV and runs the script; `phases` run one after the other on one record. */
  async function runScript(
    input: HookScriptInput,
    args: readonly string[],
    env: Record<string, string> = {},
    options: { phase?: ActivationPhase; root?: string; cwd?: string } = {},
  ) {
    const root = options.root ?? join(dir, String(count++));
    for (const [path, file] of Object.entries(activationFiles(input))) {
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), file.content);
    }
    const [bash, ...rest] = shellArgs("/bin/bash", join(root, ACTIVATE_SCRIPT), args, {
      phase: options.phase ?? "start",
      record: join(root, "record"),
    });
    const result = spawnSync(bash ?? "", rest, {
      env: { PATH: "/usr/bin:/bin", FLOX_ENV: root, ...env },
      encoding: "utf8",
      cwd: options.cwd ?? root,
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr, root };
  }

  it("exports hook variables to the command and sends the hook's stdout to stderr", async () => {
    const out = await runScript({ vars: {}, hook: "echo from-hook\nexport GREETING=hi" }, [
      "sh",
      "-c",
      'echo "$GREETING"',
    ]);
    assert.deepEqual([out.code, out.stdout, out.stderr], [0, "hi\n", "from-hook\n"]);
  });
  it("runs an indented hook (outdented as Flox does, so a heredoc terminator works)", async () => {
    const hook = "    cat <<EOF\n    inside\n    EOF\n    export DONE=yes\n";
    const out = await runScript({ vars: {}, hook }, ["printenv", "DONE"]);
    assert.deepEqual([out.code, out.stdout, out.stderr], [0, "yes\n", "inside\n"]);
  });
  it("runs shell-only vars in bash, after the node's env", async () => {
    const out = await runScript(
      { vars: { WHO: "$(echo $BASE)-x", MSG: "${WHO:-none}!" } },
      ["printenv", "MSG"],
      {
        BASE: "b",
      },
    );
    assert.deepEqual([out.code, out.stdout, out.stderr], [0, "b-x!\n", ""]);
  });
  it("keeps double quotes and a trailing backslash in a shell-only var", async () => {
    const out = await runScript({ vars: { Q: 'say "hi" $(echo \\"ok\\") \\' } }, ["printenv", "Q"]);
    assert.equal(out.stdout, 'say "hi" "ok" \\\n');
  });
  it("passes the command's exit code through", async () => {
    assert.equal((await runScript({ vars: {}, hook: "true" }, ["sh", "-c", "exit 7"])).code, 7);
  });
  const ignored: [string, string][] = [
    ["a non-zero last status", "echo oops >&2\nfalse"],
    ["return 3", "return 3"],
    ["a syntax error", "export A=1\nif then"],
  ];
  for (const [name, hook] of ignored) {
    it(`runs the command after a hook with ${name} (Flox ignores the hook's status)`, async () => {
      const out = await runScript({ vars: {}, hook }, ["sh", "-c", "echo ran"]);
      assert.equal(out.code, 0, out.stderr);
      assert.equal(out.stdout, "ran\n");
    });
  }
  const ending: [string, string][] = [
    ["exit 0", "exit 0"],
    ["exit 5", "echo bye >&2; exit 5"],
    ["exec", "exec true"],
    ["set -e and a failure", "set -e\nfalse\nexport LATE=1"],
  ];
  for (const [name, hook] of ending) {
    it(`fails with 1 and does not run the command for a hook with ${name}`, async () => {
      const out = await runScript({ vars: {}, hook }, ["sh", "-c", "echo ran"]);
      assert.equal(out.code, 1, out.stderr);
      assert.equal(out.stdout, "");
      assert.match(out.stderr, /imageless: hook\.on-activate ended activation early \(exit or exec\)/);
    });
  }
  it("keeps a cd and a umask of the hook from the command; unset and changed variables reach it", async () => {
    const out = await runScript(
      { vars: {}, hook: "cd /\numask 0077\nunset DROP\nexport KEEP=changed\nNOT_EXPORTED=1" },
      ["sh", "-c", 'echo "$PWD|$(pwd)|$(umask)|${DROP-unset}|$KEEP|${NOT_EXPORTED-unset}"'],
      { DROP: "x", KEEP: "old" },
      { cwd: "/tmp" },
    );
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, "/tmp|/tmp|0022|unset|changed|unset\n");
    // The command's environment itself (no shell between): PWD is not replayed either.
    const direct = await runScript(
      { vars: {}, hook: "cd /" },
      ["printenv", "PWD"],
      { PWD: "/tmp" },
      { cwd: "/tmp" },
    );
    assert.equal(direct.stdout, "/tmp\n");
  });
  it("records at start and replays at attach without running the hook again", async () => {
    const hook = 'echo ran >>"$FLOX_ENV/count"\nexport STAMP="$(date +%N)"';
    const start = await runScript({ vars: { NOW: "$(date +%N)" }, hook }, ["sh", "-c", 'echo "$STAMP $NOW"']);
    assert.equal(start.code, 0, start.stderr);
    for (let i = 0; i < 2; i++) {
      const attach = await runScript(
        { vars: { NOW: "$(date +%N)" }, hook },
        ["sh", "-c", 'echo "$STAMP $NOW"'],
        {},
        {
          phase: "attach",
          root: start.root,
        },
      );
      assert.deepEqual([attach.code, attach.stdout, attach.stderr], [0, start.stdout, ""]);
    }
    assert.equal(await readFile(join(start.root, "count"), "utf8"), "ran\n");
  });
  it("reports a missing command as '<cmd>: command not found' with 127", async () => {
    const out = await runScript({ vars: {}, hook: "true" }, ["no-such-command", "x"]);
    assert.equal(out.code, 127);
    assert.equal(out.stderr, "no-such-command: command not found\n");
  });
});
