// People: the staff list for pickers, how a person is named, when they were last active.

import * as api from "./api.js";
import { h } from "./dom.js";

/** Everyone with an account, oldest first (a team has far fewer than a page of 200). */
export async function everyone(signal) {
  const answer = await api.get("/users.list", { limit: 200 }, { signal });
  return answer.data;
}

/** How a person is shown: their name, else their email. */
export function nameOf(user) {
  return user.name || user.email;
}

/** A <select> of people, by name; `none` names the empty choice. */
export function personSelect(list, { selected = "", none = "Everyone" } = {}) {
  const select = h("select", { name: "person" }, h("option", { value: "" }, none));
  const sorted = [...list].sort((a, b) => nameOf(a).localeCompare(nameOf(b)));
  for (const user of sorted) {
    select.append(
      h(
        "option",
        { value: String(user.id), selected: String(user.id) === String(selected) },
        nameOf(user),
      ),
    );
  }
  return select;
}

/** A link to a person's page. */
export function personLink(user) {
  return h("a", { href: `#/people/${user.id}` }, nameOf(user));
}
