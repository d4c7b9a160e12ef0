// The hub's web UI: plain DOM, no framework, no build step, a few ES modules. It reads and changes
// the hub through the same /api/v1 as the CLI, with the token a person signed in with.
import { currentAccount, forgetToken, saveToken } from "./api.js";
import { renderDiff } from "./diff-page.js";
import { el, showMessage } from "./dom.js";
import { renderEnvironment } from "./env-page.js";
import { renderList } from "./list-page.js";
import { renderOrg } from "./org-page.js";

// A message to show after the next navigation (e.g. "Deleted acme/web." on the list it lands on).
let flash = "";

const ctx = {
  refresh: () => route(),
  navigate(hash, message) {
    flash = message ?? "";
    if (location.hash === hash) {
      showMessage(flash);
      flash = "";
      route();
    } else {
      location.hash = hash;
    }
  },
};

/**
 * The header shows exactly one of the sign-in form and the signed-in account: both start `hidden`
 * and the CSS makes `[hidden]` win over their `display: flex`.
 */
async function renderAccount() {
  const signIn = document.getElementById("sign-in");
  const signedIn = document.getElementById("signed-in");
  let me;
  try {
    me = await currentAccount();
  } catch (error) {
    forgetToken();
    showMessage(`The saved token was refused: ${error.message}`, "error");
  }
  if (me !== undefined) document.getElementById("handle").textContent = me.handle;
  signIn.hidden = me !== undefined;
  signedIn.hidden = me === undefined;
}

async function route() {
  const app = document.getElementById("app");
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  try {
    if (parts[0] === "env" && parts[3] === "diff" && parts.length === 6) {
      await renderDiff(app, parts[1], parts[2], parts[4], parts[5]);
    } else if (parts[0] === "env" && parts.length >= 3) {
      await renderEnvironment(
        app,
        ctx,
        parts[1],
        parts[2],
        parts[3] === undefined ? undefined : Number(parts[3]),
      );
    } else if (parts[0] === "org" && parts.length === 2) {
      await renderOrg(app, ctx, parts[1]);
    } else {
      await renderList(app, ctx);
    }
  } catch (error) {
    app.replaceChildren(el("p", { "data-testid": "error", class: "error" }, error.message));
  }
}

document.getElementById("sign-in").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = document.getElementById("token-input");
  saveToken(input.value.trim());
  input.value = "";
  showMessage("");
  await renderAccount();
  await route();
});

document.getElementById("sign-out-button").addEventListener("click", async () => {
  forgetToken();
  await renderAccount();
  await route();
});

window.addEventListener("hashchange", () => {
  showMessage(flash);
  flash = "";
  route();
});

await renderAccount();
await route();
