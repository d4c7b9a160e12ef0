// Building the page: every value from the hub goes in as text (textContent), never as HTML.

/** An element with attributes and children (strings become text nodes; `on…` attributes are listeners). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Number.POSITIVE_INFINITY)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(typeof child === "string" || typeof child === "number" ? String(child) : child);
  }
  return node;
}

/** Replaces `node`'s content with `children` (nested lists flattened; null, undefined and false skipped). */
export function fill(node, ...children) {
  node.replaceChildren(...el("div", {}, ...children).childNodes);
}

export function table(testId, headings, rows) {
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

/** A time as the hub sends it (ISO text, or Unix seconds as Flox stores them), in UTC. */
export function time(value) {
  if (value === undefined || value === null) return "-";
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(date.getTime())
    ? String(value)
    : `${date.toISOString().slice(0, 19).replace("T", " ")}Z`;
}

/** The line under the header: what an action did, or why it failed. */
export function showMessage(text, kind = "info") {
  const message = document.getElementById("message");
  message.textContent = text;
  message.className = kind;
  message.hidden = text === "";
}

/**
 * A button that runs `action`, disabled while it runs; a failure is shown as `failed: <hub's line>`.
 */
export function actionButton(label, attrs, action, failed) {
  const button = el("button", { type: "button", ...attrs }, label);
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await action();
    } catch (error) {
      showMessage(`${failed}: ${error.message}`, "error");
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

export function envHref(owner, name, ...rest) {
  return [`#/env/${encodeURIComponent(owner)}/${encodeURIComponent(name)}`, ...rest].join("/");
}

export function orgHref(name) {
  return `#/org/${encodeURIComponent(name)}`;
}

export function badge(text, kind, testId) {
  return el("span", { class: `badge ${kind}`, "data-testid": testId }, text);
}

export function muted(text, testId) {
  return el("p", { class: "muted", "data-testid": testId }, text);
}

/** Changes recorded outside the environments' own history (`GET /audit`), or nothing when there are none. */
export function auditTable(events) {
  if (events.length === 0) return null;
  return [
    el("h2", {}, "Audit"),
    table(
      "audit",
      ["Time", "By", "Action", "Target", "Detail"],
      events.map((e) => [time(e.at), e.actor, e.action, e.target, e.detail ?? ""]),
    ),
  ];
}
