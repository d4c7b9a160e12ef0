// `#/org/<name>`: an organisation's members and roles, and (for its owners) members and machine tokens
// to manage. A new machine token is shown once, right after it was made: the hub keeps only its hash.
import { call, forgetAccount, orgPath } from "./api.js";
import { actionButton, auditTable, badge, el, fill, muted, showMessage, table, time } from "./dom.js";

const ROLES = ["owner", "writer", "reader"];

export async function renderOrg(app, ctx, name, shown = {}) {
  const org = await call("GET", orgPath(name));
  const manage = org.callerMayManage === true;
  const [tokens, audit] = manage
    ? await Promise.all([
        call("GET", `${orgPath(name)}/tokens`),
        call("GET", `/audit?${new URLSearchParams({ owner: name }).toString()}`),
      ])
    : [[], []];
  const again = (next = {}) => renderOrg(app, ctx, name, next);
  const setRole = async (handle, role) => {
    await call("PUT", `${orgPath(name)}/members/${encodeURIComponent(handle)}`, { role });
    forgetAccount();
    showMessage(`${handle} is ${role} of ${name} now.`);
    await again();
  };
  const remove = async (handle) => {
    await call("DELETE", `${orgPath(name)}/members/${encodeURIComponent(handle)}`);
    forgetAccount();
    showMessage(`${handle} is no longer a member of ${name}.`);
    await again();
  };
  const revoke = async (id) => {
    await call("DELETE", `${orgPath(name)}/tokens/${encodeURIComponent(id)}`);
    showMessage(`Machine token ${id} of ${name} is revoked.`);
    await again();
  };
  fill(
    app,
    el("p", {}, el("a", { href: "#/" }, "← all environments")),
    el("h1", {}, `Organisation ${org.name}`),
    el("h2", {}, "Members"),
    table(
      "members",
      manage ? ["Member", "Role", "Change role", ""] : ["Member", "Role"],
      org.members.map((m) => {
        const cells = [m.handle, badge(m.role, `role ${m.role}`, `role-${m.handle}`)];
        if (!manage) return cells;
        const picker = el(
          "select",
          { "data-testid": `role-select-${m.handle}`, "aria-label": `role of ${m.handle}` },
          ROLES.map((r) => el("option", { value: r, selected: r === m.role }, r)),
        );
        return [
          ...cells,
          el(
            "span",
            { class: "inline" },
            picker,
            actionButton(
              "Change role",
              { "data-testid": `role-save-${m.handle}` },
              () => setRole(m.handle, picker.value),
              `Changing the role of ${m.handle} failed`,
            ),
          ),
          actionButton(
            "Remove",
            { "data-testid": `remove-${m.handle}` },
            () => remove(m.handle),
            `Removing ${m.handle} from ${name} failed`,
          ),
        ];
      }),
    ),
    manage
      ? addMemberForm(name, setRole)
      : muted("Only the organisation's owners manage members and tokens."),
    manage ? machineTokens(name, tokens, shown.token, revoke, again) : null,
    auditTable(audit),
  );
}

function addMemberForm(org, setRole) {
  const handle = el("input", { id: "member-handle", placeholder: "user handle", autocomplete: "off" });
  const role = el(
    "select",
    { id: "member-role", "aria-label": "role" },
    ROLES.map((r) => el("option", { value: r, selected: r === "reader" }, r)),
  );
  return el(
    "form",
    {
      class: "inline",
      "data-testid": "add-member",
      onsubmit: async (event) => {
        event.preventDefault();
        try {
          await setRole(handle.value.trim(), role.value);
        } catch (error) {
          showMessage(`Adding ${handle.value.trim()} to ${org} failed: ${error.message}`, "error");
        }
      },
    },
    el("label", { for: "member-handle" }, "Add a member"),
    handle,
    role,
    el("button", { type: "submit", "data-testid": "add-member-button" }, "Add member"),
  );
}

function machineTokens(org, tokens, created, revoke, again) {
  const description = el("input", {
    id: "token-description",
    placeholder: "what it is for",
    autocomplete: "off",
  });
  return [
    el("h2", {}, "Machine tokens"),
    el(
      "p",
      { class: "muted" },
      "A machine token acts for the organisation with write access (push, switch, roll back) until it is revoked.",
    ),
    created === undefined
      ? null
      : el(
          "div",
          { class: "new-token", "data-testid": "new-token" },
          el(
            "p",
            {},
            `New machine token ${created.id}. Copy it now: the hub keeps only its hash and cannot show it again.`,
          ),
          el("pre", {}, el("code", { "data-testid": "new-token-text" }, created.token)),
        ),
    tokens.length === 0
      ? muted("No machine tokens.", "machine-tokens")
      : table(
          "machine-tokens",
          ["Token", "Description", "Created", "State", ""],
          tokens.map((t) => [
            el("code", {}, t.id),
            t.description ?? "",
            time(t.createdAt),
            t.revoked ? badge("revoked", "revoked") : badge("active", "live"),
            t.revoked
              ? ""
              : actionButton(
                  "Revoke",
                  { "data-testid": `revoke-${t.id}` },
                  () => revoke(t.id),
                  `Revoking ${t.id} failed`,
                ),
          ]),
        ),
    el(
      "form",
      {
        class: "inline",
        "data-testid": "create-token",
        onsubmit: async (event) => {
          event.preventDefault();
          try {
            const text = description.value.trim();
            const token = await call(
              "POST",
              `${orgPath(org)}/tokens`,
              text === "" ? {} : { description: text },
            );
            showMessage("");
            await again({ token });
          } catch (error) {
            showMessage(`Creating a machine token of ${org} failed: ${error.message}`, "error");
          }
        },
      },
      el("label", { for: "token-description" }, "New machine token"),
      description,
      el("button", { type: "submit", "data-testid": "create-token-button" }, "Create token"),
    ),
  ];
}
