// Sign-in, and the page a signed-in non-admin sees instead of the console.

import * as api from "../api.js";
import { field, h } from "../dom.js";
import { describe, heading, messages } from "../ui.js";

/** Show the sign-in form; `onSignedIn(user)` is called with the account that signed in. */
export function renderSignIn(main, { notice = "", onSignedIn }) {
  const email = h("input", {
    type: "email",
    name: "email",
    autocomplete: "username",
    required: true,
  });
  const password = h("input", {
    type: "password",
    name: "password",
    autocomplete: "current-password",
    required: true,
  });
  const submit = h("button", { type: "submit" }, "Sign in");
  const report = messages();
  const form = h(
    "form",
    { class: "signin", method: "post" },
    field("Email", email),
    field("Password", password),
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    report.ok("Signing in…");
    try {
      const user = await api.signIn(email.value, password.value);
      password.value = "";
      onSignedIn(user);
    } catch (error) {
      report.fail(
        error.code === "invalid_credentials" ? "Wrong email or password." : describe(error),
      );
      password.focus();
      password.select();
    } finally {
      submit.disabled = false;
    }
  });
  const title = heading("Sign in to the admin console");
  main.replaceChildren(
    h(
      "section",
      { class: "narrow" },
      title,
      notice ? h("p", { class: "notice", role: "status" }, notice) : null,
      form,
      report.element,
      h(
        "p",
        { class: "hint" },
        "For admins only. You stay signed in while this tab is open: reloading the page " +
          "or opening the console in another tab asks you to sign in again.",
      ),
    ),
  );
  email.focus();
}

/** Tell a staff member that the console is for admins only. */
export function renderAdminsOnly(main, { user, onAgain }) {
  const again = h("button", { type: "button" }, "Sign in with another account");
  again.addEventListener("click", onAgain);
  const who = user ? (user.name ? `${user.name} (${user.email})` : user.email) : "this account";
  const title = heading("Admins only");
  main.replaceChildren(
    h(
      "section",
      { class: "narrow admins-only" },
      title,
      h(
        "p",
        {},
        `You signed in as ${who}, which is not an admin account. This console is for admins only, so you have been signed out.`,
      ),
      h(
        "p",
        {},
        "Staff capture products with the mobile app. If you need the console, ask an admin " +
          "to make your account an admin.",
      ),
      again,
    ),
  );
  title.focus();
}
