"""The two small pages that emailed links open: confirm an address, choose a new password.

The token arrives in the URL fragment, which the browser keeps to itself; the
page's script sends it in the body of the API request. So the token never
appears in a URL the server or a proxy logs, and a mail scanner that fetches
the link spends nothing.
"""

import secrets

from flask import Blueprint, current_app

from productinfo.http import EndpointSpec

bp = Blueprint("pages", __name__)
# Described in the OpenAPI document like the API: public pages, answered in HTML.
PAGE = EndpointSpec("GET", "public", media=("text/html",))

STYLE = """body{font:16px/1.5 system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}
input,button{font:inherit;padding:.5rem;width:100%;box-sizing:border-box;margin:.25rem 0}
.error{color:#b00020}"""

READ_TOKEN = """const token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
history.replaceState(null, "", location.pathname);
const out = document.getElementById("out");
async function call(path, body) {
  const response = await fetch(path, {method: "POST",
    headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
  const answer = await response.json();
  out.className = response.ok ? "" : "error";
  out.textContent = answer.message;
  return response.ok;
}"""

VERIFY_SCRIPT = (
    READ_TOKEN
    + """
call("/users.signup.verify", {token});"""
)

UNDO_SCRIPT = (
    READ_TOKEN
    + """
call("/users.email.undo", {token});"""
)

RESET_SCRIPT = (
    READ_TOKEN
    + """
document.getElementById("form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const password = document.getElementById("password").value;
  if (password !== document.getElementById("again").value) {
    out.className = "error"; out.textContent = "The two passwords differ."; return;
  }
  if (await call("/users.resetpass", {token, password})) event.target.remove();
});"""
)


def _page(title: str, body: str, script: str):
    nonce = secrets.token_urlsafe(16)
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><style nonce="{nonce}">{STYLE}</style></head>
<body><h1>{title}</h1>{body}<p id="out" role="status"></p>
<script nonce="{nonce}">{script}</script></body></html>"""
    response = current_app.response_class(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
        "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/users.signup.verify")
def verify_email_page():
    """Confirm the address of the emailed link."""
    return _page("Confirming your email address", "", VERIFY_SCRIPT)


@bp.get("/users.email.undo")
def undo_email_change_page():
    """Give the account back the address the emailed link was sent to."""
    return _page("Restoring your email address", "", UNDO_SCRIPT)


@bp.get("/users.resetpass")
def reset_password_page():
    """Ask for a new password for the emailed reset link."""
    form = """<form id="form">
<label for="password">New password</label>
<input id="password" type="password" autocomplete="new-password" required minlength="8">
<label for="again">The same again</label>
<input id="again" type="password" autocomplete="new-password" required minlength="8">
<button>Set the password</button></form>"""
    return _page("Choose a new password", form, RESET_SCRIPT)


for _view in (verify_email_page, undo_email_change_page, reset_password_page):
    _view.spec = PAGE
