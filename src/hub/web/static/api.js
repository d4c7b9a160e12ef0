// The hub's /api/v1 as this page calls it, with the token a person signed in with (kept in this
// browser's localStorage). Every failure becomes an Error whose message is the hub's one-line text.

const TOKEN_KEY = "imageless.token";
const API = "/api/v1";

export function token() {
  return localStorage.getItem(TOKEN_KEY) ?? "";
}

export function saveToken(text) {
  localStorage.setItem(TOKEN_KEY, text);
  account = undefined;
}

export function forgetToken() {
  localStorage.removeItem(TOKEN_KEY);
  account = undefined;
}

export async function call(method, path, body) {
  const headers = { accept: "application/json" };
  if (token() !== "") headers.authorization = `Bearer ${token()}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${API}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let data = {};
  try {
    data = text === "" ? {} : JSON.parse(text);
  } catch {
    throw new Error(`the hub answered HTTP ${response.status} with something that is not JSON`);
  }
  if (!response.ok) throw new Error(data.error ?? `the hub answered HTTP ${response.status}`);
  return data;
}

// `GET /accounts/me` once per sign-in: the header and the pages ask for it.
let account;

/** The signed-in account, or undefined when nobody is signed in. Throws when the token is refused. */
export async function currentAccount() {
  if (token() === "") return undefined;
  account ??= call("GET", "/accounts/me");
  try {
    return await account;
  } catch (error) {
    account = undefined;
    throw error;
  }
}

/** Reads the account again on next use (after a change to its organisations). */
export function forgetAccount() {
  account = undefined;
}

export function envPath(owner, name) {
  return `/environments/${encodeURIComponent(owner)}/${encodeURIComponent(name)}`;
}

export function orgPath(name) {
  return `/orgs/${encodeURIComponent(name)}`;
}
