// Catalogue pieces shared by the views: categories, the manufacturer picker, a capture card.

import * as api from "./api.js";
import { h, newId, time } from "./dom.js";

/** All categories, in name order (a catalogue has a few dozen; one page holds 500). */
export async function categories(signal) {
  const answer = await api.get("/categories.get", { limit: 500 }, { signal });
  return answer.data;
}

/** A <select> of the categories; `none` names the empty choice, if there is one. */
export function categorySelect(list, { selected = "", none = null } = {}) {
  const select = h("select", { name: "category" });
  if (none) select.append(h("option", { value: "" }, none));
  for (const category of list) {
    select.append(
      h(
        "option",
        { value: String(category.id), selected: String(category.id) === String(selected) },
        category.name,
      ),
    );
  }
  return select;
}

/**
 * A text input that suggests manufacturers as the admin types (from /companies.get?q=).
 * `resolve()` returns the manufacturer whose name was typed (or the only one containing the
 * text), {id, name}, or null.
 */
export function companyPicker({ value = "", signal }) {
  const options = h("datalist", { id: newId("companies") });
  const input = h("input", {
    type: "text",
    name: "company",
    list: options.id,
    autocomplete: "off",
    value,
  });
  let timer = null;

  async function lookup(text) {
    const answer = await api.get("/companies.get", { q: text, limit: 20 }, { signal });
    return answer.data;
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    const text = input.value.trim();
    if (!text) return;
    timer = setTimeout(async () => {
      try {
        const found = await lookup(text);
        options.replaceChildren(...found.map((company) => h("option", { value: company.name })));
      } catch {
        // Suggestions are a convenience: typing the whole name still works.
      }
    }, 250);
  });

  return {
    input,
    list: options,
    async resolve() {
      const text = input.value.trim();
      if (!text) return null;
      const found = await lookup(text);
      const exact = found.find((company) => company.name.toLowerCase() === text.toLowerCase());
      // A part of one name only is clear enough; a part of several is not.
      return exact || (found.length === 1 ? found[0] : null);
    },
  };
}

/** Who added a product, for people: their name, else their email. */
export function author(product) {
  return product.created_by.name || product.created_by.email;
}

/** A capture in the gallery: its thumbnail, name, maker, category, who added it and when. */
export function captureCard(product, photos) {
  const first = product.photos[0];
  const picture = first
    ? photos.show(first.thumbnail_url || first.url, { className: "thumb" })
    : h("span", { class: "photo thumb none" }, "No photo");
  const count = product.photos.length;
  return h(
    "li",
    { class: "capture", dataset: { productId: String(product.id) } },
    h(
      "a",
      { href: `#/products/${product.id}`, class: "capture-link" },
      picture,
      h("span", { class: "capture-name" }, product.name),
      h("span", { class: "capture-meta" }, `${product.company.name} · ${product.category.name}`),
      h("span", { class: "capture-by" }, `${author(product)}, `, time(product.created_at)),
      h(
        "span",
        { class: "capture-count" },
        count === 0 ? "No photos" : count === 1 ? "1 photo" : `${count} photos`,
      ),
    ),
  );
}
