import { isShellOnlyValue, orderVars, referencedNames } from "./vars.js";

/** Where the activation script lives in the built environment ($FLOX_ENV), beside Flox's own files. */
export const ACTIVATE_SCRIPT = "activate.d/imageless-activate.bash";
/** The hook's code, a file of its own (Flox's name) so it is `source`d and its status is its own. */
export const HOOK_FILE = "activate.d/hook-on-activate";

/** What the activation script is made of. */
export interface HookScriptInput {
  /** `[vars]` in file order. */
  readonly vars: Readonly<Record<string, string>>;
  readonly hook?: string;
  /** Dev mode: the script also sources the packages' `etc/profile.d/*.sh`, after `[vars]`. */
  readonly profileScripts?: boolean;
}

/** A generated file of the environment, relative to $FLOX_ENV (shaped like buildProfile's `ExtraFile`). */
export interface ActivationFile {
  readonly content: string;
  readonly executable?: boolean;
}

/** When the script runs: at container start (activates and records) or for an exec (replays). */
export type ActivationPhase = "start" | "attach";

/**
 * The `[vars]` only bash can set faithfully, in the order they must be set: those with shell syntax
 * (`$(…)`, `${X:-d}` …) and every one referring to such a variable, directly or not. The others are
 * expanded on the node and written into the process environment.
 *
 * @throws {ImagelessError} `invalid-input` for a reference cycle (see `orderVars`).
 * @example
 * varsNeedingShell({ NOW: "$(date)", MSG: "at $NOW", HOME2: "$HOME" }); // ["NOW", "MSG"]
 */
export function varsNeedingShell(vars: Readonly<Record<string, string>>): string[] {
  const needing = new Set<string>();
  for (const name of orderVars(vars)) {
    const value = vars[name] ?? "";
    // orderVars puts every referenced variable first, so one pass sees each dependency decided.
    if (isShellOnlyValue(value) || referencedNames(value).some((ref) => ref !== name && needing.has(ref))) {
      needing.add(name);
    }
  }
  return [...needing];
}

/** True when the hook has code to run (an empty or blank hook needs no shell). */
export function hasHook(hook: string | undefined): hook is string {
  return hook !== undefined && hook.trim() !== "";
}

/**
 * Shifts a script left by the smallest indentation of its non-empty lines, as Flox's buildenv does
 * to hook and profile scripts (`buildenv/buildenvLib` `outdentText`): only spaces count as
 * indentation (a tab is text), and empty lines do not count. Pure.
 *
 * @example
 * outdentScript("  a\n    b\n"); // "a\n  b\n"
 */
export function outdentScript(text: string): string {
  const lines = text.split("\n");
  let indent = Number.POSITIVE_INFINITY;
  for (const line of lines) {
    if (line === "") continue;
    indent = Math.min(indent, /^ */.exec(line)?.[0].length ?? 0);
  }
  if (!Number.isFinite(indent)) return text;
  return lines.map((line) => line.slice(indent)).join("\n");
}

/**
 * The files that activate a command through bash, relative to $FLOX_ENV, or `{}` when the
 * environment needs no shell (then the command runs with no shell at all). Depends only on the
 * manifest (and the mode), so identical generations share one profile.
 *
 * At `start` the script does in a bash process of its own (a subshell) what Flox's activate script
 * does after `[vars]`: the shell-only `[vars]`, in dev mode the packages' profile.d scripts, then
 * `hook.on-activate` (outdented, sourced with errexit, nounset and pipefail off and stdout sent to
 * stderr, under umask 077 as Flox's start does). Only the exported variables it changed come back;
 * they are applied, recorded for exec, and the command is `exec`'d, keeping its PID, signals and
 * exit code. At `attach` (exec, probes) the recorded changes are replayed and nothing runs again.
 *
 * Exit codes before the command runs: 1 when activation ended early (`exit` or `exec` in the hook);
 * 127 with `<cmd>: command not found` when the command is not on the activated PATH. The hook's own
 * exit status is ignored, as Flox ignores it.
 *
 * @example
 * activationFiles({ vars: {}, hook: "export GREETING=hi" });
 * // { "activate.d/imageless-activate.bash": {…}, "activate.d/hook-on-activate": {…} }
 */
export function activationFiles(input: HookScriptInput): Record<string, ActivationFile> {
  const shellVars = varsNeedingShell(input.vars);
  const hook = hasHook(input.hook) ? outdentScript(input.hook) : undefined;
  const profileScripts = input.profileScripts === true;
  if (shellVars.length === 0 && hook === undefined && !profileScripts) return {};
  const activation: string[] = [];
  if (shellVars.length > 0) {
    activation.push("# [vars] that need a shell, each after the ones it refers to.");
    for (const name of shellVars) activation.push(`export ${name}="${doubleQuoted(input.vars[name] ?? "")}"`);
  }
  if (profileScripts) activation.push(...PROFILE_D_LINES);
  if (hook !== undefined) activation.push(...HOOK_LINES);
  const what = hook !== undefined ? "hook.on-activate" : "a profile.d script or [vars]";
  const lines = [
    "# Generated by imageless: activates a command that needs bash (hook.on-activate, shell-only",
    "# [vars] or dev-mode profile.d scripts), then execs it. Run as:",
    "#   bash --noprofile --norc <this file> start|attach <record file> <command> [args...]",
    '__imageless_phase="$1"',
    '__imageless_record="$2"',
    "shift 2",
    'if [ "$__imageless_phase" = start ]; then',
    "  __imageless_changes=$(",
    ...SNAPSHOT_LINES.map((line) => `    ${line}`),
    "    {",
    ...activation.map((line) => `      ${line}`),
    "    } 1>&2",
    ...CHANGES_LINES.map((line) => `    ${line}`),
    "  )",
    `  case "$__imageless_changes" in`,
    `    *"${COMPLETE}") ;;`,
    "    *)",
    `      printf '%s\\n' 'imageless: ${what} ended activation early (exit or exec): the command was not run' >&2`,
    "      exit 1",
    "      ;;",
    "  esac",
    '  eval "$__imageless_changes"',
    "  # Recorded for exec processes and probes, which replay it instead of activating again.",
    `  if ! printf '%s\\n' "$__imageless_changes" 2>/dev/null >"$__imageless_record"; then`,
    `    printf '%s\\n' "imageless: warning: cannot record the activation in $__imageless_record; exec processes will wait for it" >&2`,
    "  fi",
    "else",
    ...ATTACH_LINES.map((line) => `  ${line}`),
    "fi",
    "unset __imageless_phase __imageless_record __imageless_changes",
    ...EXEC_LINES,
  ];
  const files: Record<string, ActivationFile> = { [ACTIVATE_SCRIPT]: { content: `${lines.join("\n")}\n` } };
  if (hook !== undefined) files[HOOK_FILE] = { content: hook.endsWith("\n") ? hook : `${hook}\n` };
  return files;
}

/**
 * The process args that run `args` through the activation script with `bash`.
 *
 * @example
 * shellArgs("/nix/store/…-bash/bin/bash", "/nix/store/…-env/activate.d/imageless-activate.bash", ["app"],
 *   { phase: "start", record: "/var/cache/flox/.imageless/activation" });
 * // ["/nix/store/…-bash/bin/bash", "--noprofile", "--norc", "/nix/store/…-env/…bash", "start", "/var/…", "app"]
 */
export function shellArgs(
  bash: string,
  script: string,
  args: readonly string[],
  options: { readonly phase: ActivationPhase; readonly record: string },
): string[] {
  return [bash, "--noprofile", "--norc", script, options.phase, options.record, ...args];
}

// The last line of a complete record: a hook that exits or execs never prints it.
const COMPLETE = "# imageless: activation complete";

// Exported variables before activation, by name. `${!X@}` lists names without running a program.
const SNAPSHOT_LINES = [
  "declare -A __imageless_before=()",
  "for __imageless_name in ${!A@} ${!B@} ${!C@} ${!D@} ${!E@} ${!F@} ${!G@} ${!H@} ${!I@} ${!J@} ${!K@} ${!L@} ${!M@} ${!N@} ${!O@} ${!P@} ${!Q@} ${!R@} ${!S@} ${!T@} ${!U@} ${!V@} ${!W@} ${!X@} ${!Y@} ${!Z@} ${!a@} ${!b@} ${!c@} ${!d@} ${!e@} ${!f@} ${!g@} ${!h@} ${!i@} ${!j@} ${!k@} ${!l@} ${!m@} ${!n@} ${!o@} ${!p@} ${!q@} ${!r@} ${!s@} ${!t@} ${!u@} ${!v@} ${!w@} ${!x@} ${!y@} ${!z@} ${!_@}; do",
  '  [[ ${!__imageless_name@a} == *x* ]] && __imageless_before[$__imageless_name]="${!__imageless_name}"',
  "done",
  "umask 077",
];

// What activation changed, as bash commands: exported variables set or changed, then removed ones.
// Skipped as Flox's replay skips them: `_`, SHELLOPTS, PWD/OLDPWD (a `cd` is not replayed) and
// exported functions; SHLVL is bash's own bookkeeping.
const CHANGES_LINES = [
  "declare -A __imageless_after=()",
  "for __imageless_name in ${!A@} ${!B@} ${!C@} ${!D@} ${!E@} ${!F@} ${!G@} ${!H@} ${!I@} ${!J@} ${!K@} ${!L@} ${!M@} ${!N@} ${!O@} ${!P@} ${!Q@} ${!R@} ${!S@} ${!T@} ${!U@} ${!V@} ${!W@} ${!X@} ${!Y@} ${!Z@} ${!a@} ${!b@} ${!c@} ${!d@} ${!e@} ${!f@} ${!g@} ${!h@} ${!i@} ${!j@} ${!k@} ${!l@} ${!m@} ${!n@} ${!o@} ${!p@} ${!q@} ${!r@} ${!s@} ${!t@} ${!u@} ${!v@} ${!w@} ${!x@} ${!y@} ${!z@} ${!_@}; do",
  "  case $__imageless_name in _|SHELLOPTS|PWD|OLDPWD|SHLVL|__imageless_*) continue ;; esac",
  "  [[ ${!__imageless_name@a} == *x* ]] || continue",
  "  __imageless_after[$__imageless_name]=1",
  '  if [[ ! -v "__imageless_before[$__imageless_name]" || "${__imageless_before[$__imageless_name]}" != "${!__imageless_name}" ]]; then',
  `    printf 'export %s=%q\\n' "$__imageless_name" "\${!__imageless_name}"`,
  "  fi",
  "done",
  'for __imageless_name in "${!__imageless_before[@]}"; do',
  "  case $__imageless_name in _|SHELLOPTS|PWD|OLDPWD|SHLVL) continue ;; esac",
  `  [[ -v "__imageless_after[$__imageless_name]" ]] || printf 'unset %s\\n' "$__imageless_name"`,
  "done",
  `printf '%s\\n' '${COMPLETE}'`,
];

// Dev mode: the packages' own profile.d scripts, after [vars] (Flox's source_plugin_profile_d).
const PROFILE_D_LINES = [
  "# The packages' etc/profile.d scripts (dev mode), as Flox sources them after [vars].",
  'for __imageless_script in "$FLOX_ENV"/etc/profile.d/*.sh; do',
  '  [ -e "$__imageless_script" ] && source "$__imageless_script"',
  "done",
  "unset __imageless_script",
];

// The hook is sourced like Flox's activate does: errexit, nounset and pipefail off, stdout to
// stderr; its exit status is ignored. `exit` or `exec` ends this subshell before the marker.
const HOOK_LINES = [
  "# hook.on-activate, as Flox runs it: sourced, errexit/nounset/pipefail off, stdout to stderr.",
  "set +euo pipefail",
  'source "$FLOX_ENV/activate.d/hook-on-activate" 1>&2',
];

// An exec waits for the start to have recorded the activation (a slow hook may still run), ticking
// with `read -t` on a coprocess that never writes: bash has no sleep of its own.
const ATTACH_LINES = [
  "__imageless_waited=0",
  'while [[ ! -f "$__imageless_record" || "$(<"$__imageless_record")" != *"' + COMPLETE + '" ]]; do',
  '  if [ -z "${__imageless_tick_pid:-}" ]; then',
  "    coproc __imageless_tick { read -r; }",
  '    __imageless_tick_in="${__imageless_tick[0]}" __imageless_tick_out="${__imageless_tick[1]}"',
  "    __imageless_tick_pid=$__imageless_tick_PID",
  "  fi",
  "  if (( __imageless_waited++ >= 1200 )); then",
  `    printf '%s\\n' "imageless: the container's activation was not recorded in $__imageless_record after 120 s (is hook.on-activate still running?): the command was not run" >&2`,
  "    exit 1",
  "  fi",
  '  read -r -t 0.1 -u "$__imageless_tick_in"',
  "done",
  'if [ -n "${__imageless_tick_pid:-}" ]; then',
  '  kill "$__imageless_tick_pid" 2>/dev/null',
  "  exec {__imageless_tick_in}<&- {__imageless_tick_out}>&-",
  "fi",
  'source "$__imageless_record"',
  "unset __imageless_waited __imageless_tick_pid __imageless_tick_in __imageless_tick_out",
];
// `exec` of a missing command would print bash's "exec: x: not found"; a shell user expects
// "x: command not found" and 127, which is also what the main process reports without a hook.
const EXEC_LINES = [
  'if [ "$#" -eq 0 ]; then',
  "  printf '%s\\n' 'imageless: no command to run' >&2",
  "  exit 127",
  "fi",
  'if ! type -P -- "$1" >/dev/null; then',
  "  printf '%s: command not found\\n' \"$1\" >&2",
  "  exit 127",
  "fi",
  'exec -- "$@"',
];

/**
 * A `[vars]` value inside double quotes, as Flox writes `envrc`: bash still expands `$…` and
 * backticks. A `"` the value does not already escape is escaped so it cannot end the string, and a
 * trailing lone backslash is doubled so it cannot escape the closing quote.
 */
function doubleQuoted(value: string): string {
  let out = "";
  let backslashes = 0;
  for (const char of value) {
    if (char === '"' && backslashes % 2 === 0) out += "\\";
    out += char;
    backslashes = char === "\\" ? backslashes + 1 : 0;
  }
  return backslashes % 2 === 1 ? `${out}\\` : out;
}
