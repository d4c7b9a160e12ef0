// `#/env/<owner>/<name>[/<generation>]`: one generation's content, the generations and history, and
// what the caller may do: switch or roll back (writers), visibility and delete (owners), compare.
import { call, envPath } from "./api.js";
import { actionButton, badge, el, envHref, fill, muted, showMessage, table, time } from "./dom.js";

export async function renderEnvironment(app, ctx, owner, name, generation) {
  const ref = envPath(owner, name);
  const [env, generations, history] = await Promise.all([
    call("GET", generation === undefined ? ref : `${ref}?generation=${generation}`),
    call("GET", `${ref}/generations`),
    call("GET", `${ref}/history`),
  ]);
  const may = env.callerMay ?? { write: false, administer: false };
  const display = `${env.owner}/${env.name}`;
  const switchTo = async (to) => {
    await call("POST", `${ref}/switch`, { generation: to });
    showMessage(`Generation ${to} of ${display} is live now.`);
    await ctx.refresh();
  };
  const rollback = async () => {
    const entry = await call("POST", `${ref}/rollback`);
    showMessage(`Rolled ${display} back: generation ${entry.currentGeneration} is live now.`);
    await ctx.refresh();
  };
  const otherVisibility = env.visibility === "public" ? "private" : "public";
  const setVisibility = async () => {
    await call("PUT", `${ref}/visibility`, { visibility: otherVisibility });
    showMessage(`${display} is ${otherVisibility} now.`);
    await ctx.refresh();
  };
  const profiles = Object.entries(env.profile ?? {});
  fill(
    app,
    el("p", {}, el("a", { href: "#/" }, "← all environments")),
    el("h1", {}, `${display} `, badge(env.visibility, env.visibility, "visibility")),
    el(
      "p",
      {},
      "Showing generation ",
      el("strong", { "data-testid": "shown-generation" }, String(env.generation)),
      "; live generation ",
      el("strong", { "data-testid": "live-generation" }, String(env.liveGeneration ?? "-")),
    ),
    may.write || may.administer
      ? el(
          "div",
          { class: "actions", "data-testid": "actions" },
          may.write
            ? actionButton(
                "Roll back",
                { "data-testid": "rollback" },
                rollback,
                `Rolling back ${display} failed`,
              )
            : null,
          may.administer
            ? actionButton(
                `Make ${otherVisibility}`,
                { "data-testid": "toggle-visibility" },
                setVisibility,
                `Making ${display} ${otherVisibility} failed`,
              )
            : null,
        )
      : null,
    el("h2", {}, "Packages"),
    table(
      "packages",
      ["Package", "Version", "Source", "Systems"],
      env.packages.map((p) => [
        p.installId,
        p.version ?? "-",
        el("code", {}, p.pkgPath ?? p.storePath ?? "-"),
        p.systems.join(", "),
      ]),
    ),
    el("h2", {}, "Variables"),
    table(
      "vars",
      ["Name", "Value"],
      Object.entries(env.vars ?? {}).map(([k, v]) => [el("code", {}, k), el("code", {}, v)]),
    ),
    el("h2", {}, "Hook (on-activate)"),
    scriptBlock("hook", env.hook?.onActivate),
    el("h2", {}, "Profile scripts"),
    profiles.length === 0
      ? muted("(none)", "profile")
      : el(
          "div",
          { "data-testid": "profile" },
          profiles.map(([shell, text]) => [el("h3", {}, shell), scriptBlock(`profile-${shell}`, text)]),
        ),
    el("h2", {}, "Generations"),
    table(
      "generations",
      ["Generation", "Created", "Author", "Description", "State"],
      generations.map((g) => [
        el("a", { href: envHref(owner, name, g.generation) }, String(g.generation)),
        time(g.created),
        g.author ?? "-",
        g.description ?? "",
        g.live
          ? badge("live", "live", `live-${g.generation}`)
          : may.write
            ? actionButton(
                "Switch to this generation",
                { "data-testid": `switch-${g.generation}` },
                () => switchTo(g.generation),
                `Switching ${display} to generation ${g.generation} failed`,
              )
            : "",
      ]),
    ),
    compareForm(owner, name, generations, env.generation),
    el("h2", {}, "History"),
    table(
      "history",
      ["Time", "Author", "Host", "Change", "Generation", "Command"],
      history.map((h) => [
        time(h.timestamp),
        h.author || "-",
        h.hostname || "-",
        h.summary === undefined ? h.kind : `${h.kind}: ${h.summary}`,
        h.previousGeneration === undefined
          ? String(h.currentGeneration)
          : `${h.previousGeneration} → ${h.currentGeneration}`,
        el("code", {}, (h.command ?? []).join(" ")),
      ]),
    ),
    may.administer ? deleteSection(ctx, ref, display) : null,
  );
}

function scriptBlock(testId, text) {
  return text === undefined || text === null || text.trim() === ""
    ? muted("(none)", testId)
    : el("pre", { "data-testid": testId }, el("code", {}, text));
}

/** Two generation pickers; the shown generation against the one before it by default. */
function compareForm(owner, name, generations, shown) {
  const numbers = generations.map((g) => g.generation);
  if (numbers.length < 2) return null;
  const before = numbers.filter((n) => n < shown).at(-1) ?? numbers[0];
  const after = before === shown ? numbers.find((n) => n > shown) : shown;
  const picker = (id, selected) =>
    el(
      "select",
      { id },
      numbers.map((n) => el("option", { value: n, selected: n === selected }, `generation ${n}`)),
    );
  const from = picker("diff-from", before);
  const to = picker("diff-to", after);
  return [
    el("h2", {}, "Compare generations"),
    el(
      "form",
      {
        class: "inline",
        "data-testid": "compare",
        onsubmit: (event) => {
          event.preventDefault();
          location.hash = envHref(owner, name, "diff", from.value, to.value);
        },
      },
      el("label", { for: "diff-from" }, "Changes from"),
      from,
      el("label", { for: "diff-to" }, "to"),
      to,
      el("button", { type: "submit", "data-testid": "compare-button" }, "Compare"),
    ),
  ];
}

/** Deleting needs the name typed again: it removes every generation and the history for good. */
function deleteSection(ctx, ref, display) {
  const confirmInput = el("input", {
    id: "delete-confirm",
    "data-testid": "delete-confirm",
    autocomplete: "off",
    placeholder: display,
  });
  const remove = actionButton(
    `Delete ${display}`,
    { class: "danger", "data-testid": "delete", disabled: true },
    async () => {
      await call("DELETE", ref);
      ctx.navigate("#/", `Deleted ${display}.`);
    },
    `Deleting ${display} failed`,
  );
  confirmInput.addEventListener("input", () => {
    remove.disabled = confirmInput.value.trim() !== display;
  });
  return el(
    "section",
    { class: "danger-zone", "data-testid": "danger-zone" },
    el("h2", {}, "Delete this environment"),
    el(
      "p",
      {},
      "This removes every generation and the history of ",
      el("strong", {}, display),
      " from the hub; pods that name it will no longer start. It cannot be undone. Type ",
      el("code", {}, display),
      " to confirm.",
    ),
    el("div", { class: "inline" }, confirmInput, remove),
  );
}
