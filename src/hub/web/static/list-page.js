// `#/`: the environments the caller may read, and the signed-in user's organisations.
import { call, currentAccount, forgetAccount, token } from "./api.js";
import { auditTable, badge, el, envHref, fill, muted, orgHref, showMessage, table, time } from "./dom.js";

export async function renderList(app, ctx) {
  const [envs, me] = await Promise.all([call("GET", "/environments"), currentAccount()]);
  const audit =
    me?.kind === "user"
      ? await call("GET", `/audit?${new URLSearchParams({ owner: me.handle }).toString()}`)
      : [];
  fill(
    app,
    el("h1", {}, "Environments"),
    envs.length === 0
      ? muted(token() === "" ? "No public environments. Sign in to see yours." : "No environments.")
      : table(
          "environments",
          ["Environment", "Visibility", "Live generation", "Generations", "Updated"],
          envs.map((e) => [
            el("a", { href: envHref(e.owner, e.name) }, `${e.owner}/${e.name}`),
            badge(e.visibility, e.visibility),
            e.liveGeneration === undefined ? "-" : String(e.liveGeneration),
            String(e.totalGenerations),
            time(e.updatedAt),
          ]),
        ),
    me?.kind === "user" ? organisations(me, ctx) : null,
    auditTable(audit),
  );
}

function organisations(me, ctx) {
  const input = el("input", { id: "org-name", placeholder: "organisation name", autocomplete: "off" });
  const create = async (event) => {
    event.preventDefault();
    const name = input.value.trim();
    try {
      await call("POST", "/orgs", { name });
      forgetAccount();
      ctx.navigate(orgHref(name), `Organisation ${name} created; you are its owner.`);
    } catch (error) {
      showMessage(`Creating organisation ${name} failed: ${error.message}`, "error");
    }
  };
  return [
    el("h2", {}, "Your organisations"),
    me.orgs.length === 0
      ? muted("You are in no organisation.", "orgs")
      : table(
          "orgs",
          ["Organisation", "Your role"],
          me.orgs.map((o) => [el("a", { href: orgHref(o.name) }, o.name), o.role]),
        ),
    el(
      "form",
      { class: "inline", "data-testid": "create-org", onsubmit: create },
      el("label", { for: "org-name" }, "New organisation"),
      input,
      el("button", { type: "submit" }, "Create organisation"),
    ),
  ];
}
