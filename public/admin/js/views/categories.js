// Categories: add one, rename any.

import * as api from "../api.js";
import { field, h } from "../dom.js";
import { categories } from "../catalog.js";
import { describe, heading, messages } from "../ui.js";

export function render(main, ctx) {
  const { signal } = ctx;
  const report = messages();
  const list = h("ul", { class: "categories" });

  const name = h("input", { type: "text", name: "name", required: true, maxlength: "200" });
  const add = h("button", { type: "submit" }, "Add category");
  const addForm = h("form", { class: "inline", method: "post" }, field("New category", name), add);
  addForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    add.disabled = true;
    try {
      const answer = await api.post("/categories.add", { name: name.value.trim() }, { signal });
      name.value = "";
      insert(answer.data);
      report.ok(`Added “${answer.data.name}”.`);
    } catch (error) {
      if (error.code !== "aborted") report.fail(existsMessage(error));
    } finally {
      add.disabled = false;
      name.focus();
    }
  });

  function row(category) {
    const input = h("input", {
      type: "text",
      name: "name",
      id: `category-${category.id}`,
      required: true,
      maxlength: "200",
      value: category.name,
    });
    const rename = h("button", { type: "submit", class: "secondary" }, "Rename");
    const label = h(
      "label",
      { for: input.id },
      "Name of ",
      h("span", { class: "was" }, category.name),
    );
    const form = h("form", { class: "inline", method: "post" }, label, input, rename);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const wanted = input.value.trim();
      if (wanted === category.name) {
        report.ok("The name is unchanged.");
        return;
      }
      rename.disabled = true;
      try {
        const answer = await api.post(
          "/categories.update",
          { id: category.id, name: wanted },
          { signal },
        );
        report.ok(`Renamed “${category.name}” to “${answer.data.name}”.`);
        category = answer.data;
        label.querySelector(".was").textContent = category.name;
        input.value = category.name;
      } catch (error) {
        if (error.code !== "aborted") report.fail(existsMessage(error));
      } finally {
        rename.disabled = false;
      }
    });
    return h("li", { dataset: { categoryId: String(category.id) } }, form);
  }

  function insert(category) {
    const item = row(category);
    const after = [...list.children].find(
      (li) => li.querySelector(".was").textContent.localeCompare(category.name) > 0,
    );
    list.insertBefore(item, after || null);
  }

  main.append(
    heading("Categories"),
    h(
      "p",
      { class: "lead" },
      "Staff pick a category for each product they capture. Renaming one renames it for every product.",
    ),
    addForm,
    report.element,
    h("h2", {}, "All categories"),
    list,
  );

  categories(signal)
    .then((found) => list.append(...found.map(row)))
    .catch((error) => {
      if (error.code !== "aborted") report.fail(error);
    });
}

function existsMessage(error) {
  if (error.code === "category_exists" && error.data) {
    return `A category named “${error.data.name}” exists already.`;
  }
  return describe(error);
}
