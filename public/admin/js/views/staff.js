// Staff: the accounts, filtered, with their last activity; approve, change role, disable and
// enable. Each name leads to the person's page (their captures and numbers).

import * as api from "../api.js";
import { h, time } from "../dom.js";
import { confirm, heading, messages, pagedList } from "../ui.js";

const FILTERS = [
  { key: "all", label: "Everyone", query: {} },
  { key: "pending", label: "Waiting for approval", query: { status: "pending" } },
  { key: "admins", label: "Admins", query: { role: "admin" } },
  { key: "active", label: "Active", query: { status: "active" } },
  { key: "disabled", label: "Disabled", query: { status: "disabled" } },
];

const EMPTY = {
  all: "No accounts yet.",
  pending: "Nobody is waiting for approval.",
  admins: "No admins.",
  active: "No active accounts.",
  disabled: "No disabled accounts.",
};

function statusOf(user) {
  if (user.disabled) return "disabled";
  return user.approved ? "active" : "pending";
}

const STATUS_LABEL = { pending: "Waiting for approval", active: "Active", disabled: "Disabled" };

function matches(filter, user) {
  if (filter === "admins") return user.role === "admin";
  if (filter === "all") return true;
  return statusOf(user) === filter;
}

export function render(main, ctx) {
  let filter = FILTERS.some((f) => f.key === ctx.query.get("show")) ? ctx.query.get("show") : "all";
  const report = messages();
  const me = api.currentUser();

  const buttons = FILTERS.map((f) =>
    h(
      "button",
      {
        type: "button",
        class: "chip",
        "aria-pressed": String(f.key === filter),
        dataset: { key: f.key },
      },
      f.label,
    ),
  );
  const filters = h("div", { class: "chips", role: "group", "aria-label": "Show" }, buttons);
  filters.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    filter = button.dataset.key;
    for (const b of buttons) b.setAttribute("aria-pressed", String(b === button));
    ctx.setQuery({ show: filter === "all" ? "" : filter });
    list.reload();
  });

  const list = pagedList({
    className: "people",
    signal: ctx.signal,
    report,
    empty: () => EMPTY[filter],
    load: (cursor) => {
      const current = FILTERS.find((f) => f.key === filter);
      return api.get(
        "/users.list",
        { ...current.query, cursor, limit: 50 },
        { signal: ctx.signal },
      );
    },
    item: (user) => person(user),
  });

  function person(user, notice = "") {
    const status = statusOf(user);
    const cardReport = messages();
    const label = user.name || user.email;
    const actions = [];

    const act = async (button, path, body, done) => {
      button.disabled = true;
      cardReport.clear();
      try {
        const answer = await api.post(path, body, { signal: ctx.signal });
        const changed = answer.data;
        ctx.refreshBadge();
        if (matches(filter, changed)) {
          const replacement = person(changed, done);
          card.replaceWith(replacement);
          replacement.querySelector(".actions button").focus();
        } else {
          card.remove();
          report.ok(done);
          main.querySelector("h1").focus();
        }
      } catch (error) {
        if (error.code === "aborted") return;
        cardReport.fail(error);
        button.disabled = false;
        button.focus(); // disabling it while waiting took the focus away
      }
    };

    const button = (text, name, onClick, primary = false) => {
      const b = h(
        "button",
        { type: "button", class: primary ? null : "secondary", "aria-label": `${text}: ${name}` },
        text,
      );
      b.addEventListener("click", () => onClick(b));
      actions.push(b);
    };

    if (status === "pending") {
      button(
        "Approve",
        user.email,
        (b) => act(b, "/users.approve", { user_id: user.id }, `${label} is approved.`),
        true,
      );
    }
    if (user.role === "staff") {
      button("Make admin", user.email, async (b) => {
        const sure = await confirm({
          title: `Make ${label} an admin?`,
          text: "Admins can approve and disable people, change roles, and change or delete any product.",
          action: "Make admin",
        });
        if (sure)
          act(
            b,
            "/users.setRole",
            { user_id: user.id, role: "admin" },
            `${label} is now an admin.`,
          );
      });
    } else {
      button("Make staff", user.email, async (b) => {
        const sure = await confirm({
          title: `Make ${label} staff?`,
          text: "They keep capturing products but lose access to this console.",
          action: "Make staff",
        });
        if (sure)
          act(b, "/users.setRole", { user_id: user.id, role: "staff" }, `${label} is now staff.`);
      });
    }
    if (status === "disabled") {
      button("Enable", user.email, (b) =>
        act(b, "/users.enable", { user_id: user.id }, `${label} is enabled again.`),
      );
    } else {
      button("Disable", user.email, async (b) => {
        const sure = await confirm({
          title: `Disable ${label}?`,
          text: "They are signed out on every device and cannot sign in until an admin enables the account.",
          action: "Disable",
        });
        if (sure) act(b, "/users.disable", { user_id: user.id }, `${label} is disabled.`);
      });
    }

    const card = h(
      "li",
      { class: ["person", `is-${status}`], dataset: { userId: String(user.id) } },
      h(
        "div",
        { class: "who" },
        h("strong", { class: "name" }, h("a", { href: `#/people/${user.id}` }, label)),
        me && me.id === user.id ? h("span", { class: "you" }, " (you)") : null,
        user.name ? h("span", { class: "email" }, user.email) : null,
      ),
      h(
        "ul",
        { class: "tags", "aria-label": "About this account" },
        h("li", { class: `tag role-${user.role}` }, user.role === "admin" ? "Admin" : "Staff"),
        h("li", { class: `tag status-${status}` }, STATUS_LABEL[status]),
        h("li", { class: "tag" }, user.email_verified ? "Email verified" : "Email not verified"),
      ),
      h(
        "p",
        { class: "joined" },
        "Joined ",
        time(user.created_at),
        " · last active ",
        time(user.last_activity_at),
      ),
      h("div", { class: "actions" }, actions),
      cardReport.element,
    );
    if (notice) cardReport.ok(notice);
    return card;
  }

  main.append(
    heading("Staff"),
    h(
      "p",
      { class: "lead" },
      "Approve new accounts, choose who is an admin, and disable accounts that should no longer sign in.",
    ),
    filters,
    report.element,
    list.element,
  );
  list.reload();
}
