// The hub's web UI: plain DOM, no framework, no build step. It reads the same /api/v1 as the CLI,
// with the token a person signed in with kept in this browser's localStorage. Every value from the
// hub is put into the page as text (textContent), never as HTML.

const TOKEN_KEY = "imageless.token";
const api = "/api/v1";

function token() {
  return localStorage.getItem(TOKEN_KEY) ?? "";
}

async function call(method, path, body) {
  const headers = { accept: "application/json" };
  if (token() !== "") headers.authorization = `Bearer ${token()}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${api}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const data = text === "" ? {} : JSON.parse(text);
  if (!response.ok) throw new Error(data.error ?? `the hub answered HTTP ${response.status}`);
  return data;
}

/** An element with attributes and children (strings become text nodes). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat(Number.POSITIVE_INFINITY)) {
    if (child === undefined || child === null) continue;
    node.append(typeof child === "string" || typeof child === "number" ? String(child) : child);
  }
  return node;
}

function table(testId, headings, rows) {
  return el(
    "table",
    { "data-testid": testId },
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        headings.map((h) => el("th", {}, h)),
      ),
    ),
    el(
      "tbody",
      {},
      rows.map((cells) =>
        el(
          "tr",
          {},
          cells.map((c) => el("td", {}, c)),
        ),
      ),
    ),
  );
}

function time(value) {
  if (value === undefined || value === null) return "-";
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(date.getTime())
    ? String(value)
    : `${date.toISOString().slice(0, 19).replace("T", " ")}Z`;
}

function envHref(owner, name, generation) {
  const base = `#/env/${encodeURIComponent(owner)}/${encodeURIComponent(name)}`;
  return generation === undefined ? base : `${base}/${generation}`;
}

function showMessage(text) {
  const message = document.getElementById("message");
  message.textContent = text;
  message.hidden = text === "";
}

async function renderList(app) {
  const envs = await call("GET", "/environments");
  app.replaceChildren(
    el("h1", {}, "Environments"),
    envs.length === 0
      ? el(
          "p",
          { class: "muted" },
          token() === "" ? "No public environments. Sign in to see yours." : "No environments.",
        )
      : table(
          "environments",
          ["Environment", "Visibility", "Live generation", "Generations", "Updated"],
          envs.map((e) => [
            el("a", { href: envHref(e.owner, e.name) }, `${e.owner}/${e.name}`),
            el("span", { class: `badge ${e.visibility}` }, e.visibility),
            e.liveGeneration === undefined || e.liveGeneration === null ? "-" : String(e.liveGeneration),
            String(e.totalGenerations),
            time(e.updatedAt),
          ]),
        ),
  );
}

function scriptBlock(testId, text) {
  return text === undefined || text === null || text.trim() === ""
    ? el("p", { class: "muted", "data-testid": testId }, "(none)")
    : el("pre", { "data-testid": testId }, el("code", {}, text));
}

async function renderEnvironment(app, owner, name, generation) {
  const ref = `/environments/${encodeURIComponent(owner)}/${encodeURIComponent(name)}`;
  const [env, generations, history] = await Promise.all([
    call("GET", generation === undefined ? ref : `${ref}?generation=${generation}`),
    call("GET", `${ref}/generations`),
    call("GET", `${ref}/history`),
  ]);
  const switchTo = async (to) => {
    try {
      await call("POST", `${ref}/switch`, { generation: to });
      showMessage(`Generation ${to} of ${owner}/${name} is live now.`);
      await route();
    } catch (error) {
      showMessage(`Switching to generation ${to} failed: ${error.message}`);
    }
  };
  const profiles = Object.entries(env.profile ?? {});
  app.replaceChildren(
    el("p", {}, el("a", { href: "#/" }, "← all environments")),
    el(
      "h1",
      {},
      `${env.owner}/${env.name} `,
      el("span", { class: `badge ${env.visibility}`, "data-testid": "visibility" }, env.visibility),
    ),
    el(
      "p",
      {},
      "Showing generation ",
      el("strong", { "data-testid": "shown-generation" }, String(env.generation)),
      "; live generation ",
      el("strong", { "data-testid": "live-generation" }, String(env.liveGeneration ?? "-")),
    ),
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
      ? el("p", { class: "muted", "data-testid": "profile" }, "(none)")
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
          ? el("span", { class: "badge live", "data-testid": `live-${g.generation}` }, "live")
          : el(
              "button",
              {
                type: "button",
                "data-testid": `switch-${g.generation}`,
                onclick: () => switchTo(g.generation),
              },
              "Switch to this generation",
            ),
      ]),
    ),
    el("h2", {}, "History"),
    table(
      "history",
      ["Time", "Author", "Host", "Change", "Generation", "Command"],
      history.map((h) => [
        time(h.timestamp),
        h.author || "-",
        h.hostname || "-",
        h.summary === undefined ? h.kind : `${h.kind}: ${h.summary}`,
        h.previousGeneration === undefined || h.previousGeneration === null
          ? String(h.currentGeneration)
          : `${h.previousGeneration} → ${h.currentGeneration}`,
        el("code", {}, (h.command ?? []).join(" ")),
      ]),
    ),
  );
}

async function renderAccount() {
  const signIn = document.getElementById("sign-in");
  const signedIn = document.getElementById("signed-in");
  if (token() === "") {
    signIn.hidden = false;
    signedIn.hidden = true;
    return;
  }
  try {
    const me = await call("GET", "/accounts/me");
    document.getElementById("handle").textContent = me.handle;
    signIn.hidden = true;
    signedIn.hidden = false;
  } catch (error) {
    localStorage.removeItem(TOKEN_KEY);
    showMessage(`The saved token was refused: ${error.message}`);
    signIn.hidden = false;
    signedIn.hidden = true;
  }
}

async function route() {
  const app = document.getElementById("app");
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  try {
    if (parts[0] === "env" && parts.length >= 3) {
      await renderEnvironment(app, parts[1], parts[2], parts[3] === undefined ? undefined : Number(parts[3]));
    } else {
      await renderList(app);
    }
  } catch (error) {
    app.replaceChildren(el("p", { "data-testid": "error" }, error.message));
  }
}

document.getElementById("sign-in").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = document.getElementById("token-input");
  localStorage.setItem(TOKEN_KEY, input.value.trim());
  input.value = "";
  showMessage("");
  await renderAccount();
  await route();
});

document.getElementById("sign-out-button").addEventListener("click", async () => {
  localStorage.removeItem(TOKEN_KEY);
  await renderAccount();
  await route();
});

window.addEventListener("hashchange", () => {
  showMessage("");
  route();
});

await renderAccount();
await route();
