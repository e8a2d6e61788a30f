// Merging a product keyed twice into the one to keep: likely twins (the same maker, a name
// alike), or the kept one found by its barcode.

import * as api from "./api.js";
import { field, fill, h } from "./dom.js";
import { confirm, describe, flash, messages } from "./ui.js";

const photos = (n) => (n === 1 ? "1 photo" : `${n} photos`);

/** The section that merges `product` into another; `done(kept)` follows a merge. */
export function mergeSection(product, { signal, done }) {
  const report = messages();
  const twins = h("ul", { class: "twins-of-product" });
  const barcode = h("input", { type: "text", name: "kept-barcode", inputmode: "numeric" });
  const find = h("button", { type: "submit", class: "secondary" }, "Find");
  const found = h("div", {});
  const form = h(
    "form",
    { class: "search", method: "post" },
    field("Barcode of the product to keep", barcode),
    find,
  );

  async function mergeInto(kept, button) {
    const sure = await confirm({
      title: `Merge “${product.name}” into “${kept.name}”?`,
      text:
        `“${product.name}” (${product.barcode}) will be removed; its photos move to ` +
        `“${kept.name}” (${kept.barcode}), and the phones learn it at their next sync. ` +
        "This cannot be undone.",
      action: "Merge",
    });
    if (!sure) return;
    button.disabled = true;
    try {
      const answer = await api.post(
        "/products.merge",
        { from_id: product.id, into_id: kept.id },
        { signal },
      );
      const { photos_moved: moved } = answer.data;
      flash(`Merged “${product.name}” into “${kept.name}”: ${photos(moved)} moved.`);
      done(answer.data.kept);
    } catch (error) {
      if (error.code === "aborted") return;
      report.fail(error);
      button.disabled = false;
      button.focus();
    }
  }

  function candidate(other) {
    const button = h(
      "button",
      { type: "button", class: "secondary" },
      `Merge into “${other.name}” (${other.barcode})`,
    );
    button.addEventListener("click", () => mergeInto(other, button));
    return h(
      "li",
      {},
      h("a", { href: `#/products/${other.id}` }, other.name),
      ` · ${other.barcode} · ${photos(other.photos.length)} `,
      button,
    );
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    report.clear();
    const code = barcode.value.trim();
    if (!code) return;
    find.disabled = true;
    try {
      const answer = await api.get(
        `/products.getByBarcode/${encodeURIComponent(code)}`,
        {},
        { signal },
      );
      if (answer.data.id === product.id) {
        fill(found);
        report.fail("This is this product's own barcode: give the other one's.");
        return;
      }
      fill(found, h("ul", {}, candidate(answer.data)));
    } catch (error) {
      if (error.code === "aborted") return;
      fill(found);
      report.fail(
        error.code === "product_not_found" ? "No product has this barcode." : describe(error),
      );
    } finally {
      find.disabled = false;
    }
  });

  // Likely twins: the same maker, and the name's first word of its own in the name (a word
  // of the maker's name would find every product of that maker).
  const maker = product.company.name.toLowerCase();
  const words = product.name.split(/\s+/).filter((part) => part.length >= 3);
  const word =
    words.find((part) => !maker.includes(part.toLowerCase())) || words[0] || product.name;
  api
    .get("/products.search", { q: word, company_id: product.company.id, limit: 6 }, { signal })
    .then((answer) => {
      const others = answer.data.filter((other) => other.id !== product.id).slice(0, 5);
      fill(
        twins,
        others.length
          ? others.map(candidate)
          : h("li", { class: "empty" }, "No other product of this maker has a name alike."),
      );
    })
    .catch((error) => {
      if (error.code !== "aborted") report.fail(error);
    });

  return h(
    "section",
    { class: "merge" },
    h("h2", {}, "Merge into another product"),
    h(
      "p",
      { class: "hint" },
      "Keyed twice? Merge this product into the one to keep: its photos move there (one both " +
        "have stays once) and this one is removed.",
    ),
    h("h3", {}, `Likely twins: ${product.company.name}, “${word}”`),
    twins,
    form,
    found,
    report.element,
  );
}
