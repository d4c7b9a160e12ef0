// `#/env/<owner>/<name>/diff/<from>/<to>`: what changed from one generation to another.
import { call, envPath } from "./api.js";
import { badge, el, envHref, fill, muted, table } from "./dom.js";

export async function renderDiff(app, owner, name, from, to) {
  const query = new URLSearchParams({ from, to });
  const diff = await call("GET", `${envPath(owner, name)}/diff?${query.toString()}`);
  const display = `${owner}/${name}`;
  const value = (text) => (text === undefined ? "-" : el("code", {}, text));
  const script = (text) => (text === undefined ? muted("(none)") : el("pre", {}, el("code", {}, text)));
  const empty = diff.packages.length + diff.vars.length + diff.scripts.length === 0;
  fill(
    app,
    el("p", {}, el("a", { href: envHref(owner, name) }, `← ${display}`)),
    el(
      "h1",
      {},
      `${display}: generation `,
      el("a", { href: envHref(owner, name, diff.from) }, String(diff.from)),
      " → ",
      el("a", { href: envHref(owner, name, diff.to) }, String(diff.to)),
    ),
    empty ? muted("No differences in packages, variables or scripts.", "diff-empty") : null,
    el("h2", {}, "Packages"),
    diff.packages.length === 0
      ? muted("No package changed.", "diff-packages")
      : table(
          "diff-packages",
          ["Change", "Package", "From", "To"],
          diff.packages.map((p) => [badge(p.change, p.change), p.installId, value(p.from), value(p.to)]),
        ),
    el("h2", {}, "Variables"),
    diff.vars.length === 0
      ? muted("No variable changed.", "diff-vars")
      : table(
          "diff-vars",
          ["Change", "Variable", "From", "To"],
          diff.vars.map((v) => [
            badge(v.change, v.change),
            el("code", {}, v.name),
            value(v.from),
            value(v.to),
          ]),
        ),
    el("h2", {}, "Hook and profile scripts"),
    diff.scripts.length === 0
      ? muted("No script changed.", "diff-scripts")
      : table(
          "diff-scripts",
          ["Script", "From", "To"],
          diff.scripts.map((s) => [el("code", {}, s.script), script(s.from), script(s.to)]),
        ),
  );
}
