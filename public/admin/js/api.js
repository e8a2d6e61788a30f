// The one way the console talks to the API: the JSON envelope, the bearer token, its refresh,
// and errors as ApiError. Tokens live in this module's memory only (never in web storage or
// cookies): a reload, or a new tab, means signing in again.

export class ApiError extends Error {
  constructor(status, code, message, { errors = {}, data = null } = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.errors = errors;
    this.data = data;
  }
}

let session = null; // {access, refresh, user}
let refreshing = null; // the refresh in flight, shared by every request that needs it
const listeners = { signedout: [], adminonly: [] };

/** Call `fn(message)` when the session ends without the admin asking (revoked, disabled...). */
export function onSignedOut(fn) {
  listeners.signedout.push(fn);
}

/** Call `fn(user)` when the API says the signed-in account is not an admin (any more). */
export function onAdminOnly(fn) {
  listeners.adminonly.push(fn);
}

function emit(kind, value) {
  for (const fn of listeners[kind]) fn(value);
}

/** The signed-in account, or null. */
export function currentUser() {
  return session ? session.user : null;
}

function keep(data) {
  const { access_token, refresh_token, ...user } = data;
  session = { access: access_token, refresh: refresh_token, user };
  return user;
}

/** Sign in; returns the account (with its `role`). Throws ApiError on refusal. */
export async function signIn(email, password) {
  const response = await send("POST", "/users.login", { body: { email, password } });
  return keep((await response.json()).data);
}

/** End the session on the server and forget the tokens, whatever the server says. */
export async function signOut() {
  const ended = session;
  session = null;
  if (!ended) return;
  try {
    const response = await fetch("/users.logout", {
      method: "POST",
      headers: { Authorization: `Bearer ${ended.access}`, "Content-Type": "application/json" },
      // The refresh token ends the session even when the access token has expired.
      body: JSON.stringify({ refresh_token: ended.refresh }),
    });
    await response.arrayBuffer(); // read to the end, so the connection is released
  } catch {
    // Offline: the tokens are forgotten here, and the session runs out on its own.
  }
}

/** GET a JSON endpoint; `query` values that are null or "" are left out. */
export function get(path, query = {}, options = {}) {
  return request("GET", withQuery(path, query), options);
}

/** POST a JSON body to an endpoint. */
export function post(path, body = {}, options = {}) {
  return request("POST", path, { ...options, body });
}

/**
 * Fetch a file (a photo, an export) with the bearer token; returns {blob, filename}.
 * Only this site's URLs: the token is never sent to another origin.
 */
export async function file(url, options = {}) {
  const target = new URL(url, window.location.href);
  if (target.origin !== window.location.origin) {
    throw new ApiError(
      0,
      "other_origin",
      "This file is on another site, which the console does not load.",
    );
  }
  const response = await authorised("GET", target.pathname + target.search, options);
  const disposition = response.headers.get("Content-Disposition") || "";
  const match = /filename="([^"]+)"/.exec(disposition);
  return { blob: await response.blob(), filename: match ? match[1] : null };
}

function withQuery(path, query) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== null && value !== undefined && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

async function request(method, path, options) {
  const response = await authorised(method, path, options);
  return response.json();
}

// Send with the access token; on 401 token_expired, refresh once and send again.
async function authorised(method, path, options) {
  if (!session) throw notSignedIn("Sign in first.");
  const used = session.access;
  try {
    return await send(method, path, { ...options, token: used });
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.code === "token_expired" && session) {
      // Another request may have refreshed meanwhile: then just use the new token.
      if (session.access === used) await refresh();
      return await sendOrEnd(method, path, { ...options, token: session.access });
    }
    throw react(error);
  }
}

async function sendOrEnd(method, path, options) {
  try {
    return await send(method, path, options);
  } catch (error) {
    throw error instanceof ApiError ? react(error) : error;
  }
}

// What the console does about a refusal, beyond showing it: once per session, however many
// requests were refused at the same moment.
function react(error) {
  if (!session) return error;
  if (error.status === 401 || error.code === "account_disabled") {
    session = null;
    emit(
      "signedout",
      error.status === 401 ? "Your session has ended. Sign in again." : error.message,
    );
  } else if (error.code === "admin_only" || error.code === "approval_pending") {
    const { user } = session;
    signOut();
    emit("adminonly", user);
  }
  return error;
}

function refresh() {
  if (!refreshing) {
    const token = session.refresh;
    refreshing = send("POST", "/users.refresh", { body: { refresh_token: token } })
      .then((response) => response.json())
      .then((answer) => {
        const user = keep(answer.data);
        if (user.role !== "admin")
          throw new ApiError(403, "admin_only", "Only an admin can do this.");
      })
      .catch((error) => {
        throw error instanceof ApiError ? react(error) : error;
      })
      .finally(() => {
        refreshing = null;
      });
  }
  return refreshing;
}

function notSignedIn(message) {
  return new ApiError(401, "not_signed_in", message);
}

// One HTTP request; a failed answer becomes an ApiError from its envelope.
async function send(method, path, { body, token, signal } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      credentials: "omit",
    });
  } catch (error) {
    if (error.name === "AbortError") throw new ApiError(0, "aborted", "Cancelled.");
    throw new ApiError(
      0,
      "network_error",
      "The server cannot be reached. Check the connection, then try again.",
    );
  }
  if (response.ok) return response;
  let envelope = null;
  try {
    envelope = await response.json();
  } catch {
    // Not our envelope (a proxy's error page): described by its status below.
  }
  if (!envelope || typeof envelope.code !== "string") {
    throw new ApiError(
      response.status,
      "http_error",
      `The server answered with an error (${response.status}). Try again.`,
    );
  }
  throw new ApiError(response.status, envelope.code, envelope.message, {
    errors: envelope.errors || {},
    data: envelope.data ?? null,
  });
}
