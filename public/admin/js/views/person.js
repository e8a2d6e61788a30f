// One person: who they are, what they contributed (captures, photos), when they were last
// active, and their newest captures, with a way to all of them.

import * as api from "../api.js";
import { captureCard } from "../catalog.js";
import { fill, h, time } from "../dom.js";
import { nameOf } from "../people.js";
import { photoLoader } from "../photos.js";
import { heading, messages } from "../ui.js";

const NEWEST = 12;

export function render(main, ctx) {
  const { signal } = ctx;
  const id = ctx.params.id;
  const title = heading("Person");
  const report = messages();
  main.append(
    h("p", { class: "back" }, h("a", { href: "#/staff" }, "Back to staff")),
    title,
    report.element,
  );

  Promise.all([
    api.get(`/users.getById/${encodeURIComponent(id)}`, {}, { signal }),
    api.get("/products.history", { scope: "all", created_by: id, limit: NEWEST }, { signal }),
  ])
    .then(([person, captures]) => {
      if (!signal.aborted) draw(person.data, captures);
    })
    .catch((error) => {
      if (error.code === "aborted") return;
      if (error.code === "user_not_found" || error.status === 422) {
        title.textContent = "No such person";
        report.fail("There is no account with this number.");
      } else {
        report.fail(error);
      }
      title.focus();
    });

  function draw(person, captures) {
    const name = nameOf(person);
    title.textContent = name;
    document.title = `${name} · Admin console`;
    let status = person.approved ? "Active" : "Waiting for approval";
    if (person.disabled) status = "Disabled";
    const { stats } = person;
    const photos = photoLoader(ctx);
    const gallery = h("ul", { class: "gallery" });
    fill(
      gallery,
      captures.data.map((product) => captureCard(product, photos)),
    );
    main.append(
      h(
        "div",
        { class: "numbers" },
        number(stats.products_added, "captures"),
        number(stats.photos_uploaded, "photos"),
        h(
          "p",
          { class: "number" },
          h("span", { class: "value" }, time(stats.last_activity_at)),
          h("span", {}, "last active"),
        ),
      ),
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, "Email"),
        h("dd", {}, person.email),
        h("dt", {}, "Role"),
        h("dd", {}, person.role === "admin" ? "Admin" : "Staff"),
        h("dt", {}, "Account"),
        h("dd", {}, status),
        h("dt", {}, "Joined"),
        h("dd", {}, time(person.created_at)),
      ),
      h("h2", {}, "Newest captures"),
      captures.data.length ? gallery : h("p", { class: "empty" }, `${name} has no captures yet.`),
      h(
        "p",
        {},
        h(
          "a",
          { href: `#/captures?person=${person.id}` },
          `All captures by ${name}, with filters and export`,
        ),
      ),
    );
  }
}

function number(value, label) {
  return h(
    "p",
    { class: "number" },
    h("span", { class: "value" }, value.toLocaleString()),
    h("span", {}, label),
  );
}
