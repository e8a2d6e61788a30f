// Shared pieces of the views: the confirmation dialog, messages, headings, "show more".

import { h } from "./dom.js";

// Clearer words than the API's own for the refusals an admin meets in the console.
const EXPLAINED = {
  last_admin: "This is the last admin. Make someone else an admin first, then change this account.",
  cannot_disable_self: "You cannot disable your own account. Ask another admin to do it.",
  admin_only: "Only an admin can do this.",
  not_your_product: "Only the person who added this product, or an admin, can change it.",
  category_exists: "A category with this name exists already.",
  network_error: "The server cannot be reached. Check the connection, then try again.",
  too_many_requests: "Too many requests for now. Wait a minute, then try again.",
};

/** The sentence to show for a failed call. */
export function describe(error) {
  return EXPLAINED[error.code] || error.message || "Something went wrong. Try again.";
}

/** A view's heading, focused when the view opens so keyboard and screen reader users land on it. */
export function heading(text) {
  return h("h1", { tabindex: "-1", class: "view-title" }, text);
}

/** A region for the outcome of actions: polite status, or an alert for failures. */
export function messages() {
  const region = h("div", { class: "messages" });
  const status = h("p", { class: "status", role: "status" });
  const alert = h("p", { class: "alert", role: "alert" });
  region.append(status, alert);
  return {
    element: region,
    ok(text) {
      alert.textContent = "";
      status.textContent = text;
    },
    fail(errorOrText) {
      status.textContent = "";
      alert.textContent = typeof errorOrText === "string" ? errorOrText : describe(errorOrText);
    },
    clear() {
      status.textContent = "";
      alert.textContent = "";
    },
  };
}

let flashed = "";

/** Keep a message for the next view to show (after a delete that leaves the page). */
export function flash(text) {
  flashed = text;
}

/** Take the message kept by `flash`, if any. */
export function takeFlash() {
  const text = flashed;
  flashed = "";
  return text;
}

/**
 * Ask before a change that cannot be undone. Resolves true when confirmed; Escape or
 * "Cancel" resolve false. Focus starts on Cancel, the safe choice, and returns after.
 */
export function confirm({ title, text, action }) {
  const opener = document.activeElement;
  return new Promise((resolve) => {
    const cancel = h("button", { type: "button", class: "secondary" }, "Cancel");
    const accept = h("button", { type: "button", class: "danger" }, action);
    const titleId = `confirm-title-${Date.now()}`;
    const dialog = h(
      "dialog",
      { class: "confirm", "aria-labelledby": titleId },
      h("h2", { id: titleId }, title),
      h("p", {}, text),
      h("div", { class: "actions" }, cancel, accept),
    );
    const close = (answer) => {
      dialog.close();
      dialog.remove();
      if (opener && opener.isConnected) opener.focus();
      resolve(answer);
    };
    cancel.addEventListener("click", () => close(false));
    accept.addEventListener("click", () => close(true));
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      close(false);
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

/**
 * A list that pages by `next_cursor`: `load(cursor)` returns the API's answer, `item(row)`
 * makes one list item. Returns {element, reload}.
 */
export function pagedList({ tag = "ul", className, load, item, empty, report, signal }) {
  const list = h(tag, { class: className });
  const more = h("button", { type: "button", class: "secondary more", hidden: true }, "Show more");
  const emptyNote = h("p", { class: "empty", hidden: true });
  let cursor = null;
  // Each reload starts a new generation: a late answer of an earlier one is dropped, so the
  // list never shows what the admin asked before the last change of filters.
  let generation = 0;

  async function page(first) {
    if (first) generation += 1;
    const mine = generation;
    more.disabled = true;
    try {
      const answer = await load(first ? null : cursor);
      if ((signal && signal.aborted) || mine !== generation) return;
      if (first) list.replaceChildren();
      const before = list.children.length;
      for (const row of answer.data) list.append(item(row));
      // Keyboard users carry on from the first new item rather than from a vanished button.
      if (!first && list.children[before]) {
        const target = list.children[before].querySelector("a, button, input");
        if (target) target.focus();
      }
      cursor = answer.next_cursor ?? null;
      more.hidden = !cursor;
      emptyNote.textContent = typeof empty === "function" ? empty() : empty;
      emptyNote.hidden = list.children.length > 0;
    } catch (error) {
      if (error.code !== "aborted" && mine === generation) report.fail(error);
    } finally {
      more.disabled = false;
    }
  }

  more.addEventListener("click", () => page(false));
  return {
    element: h("div", { class: "paged" }, list, emptyNote, more),
    reload: () => page(true),
    list,
  };
}
