// Captures: the newest products as a gallery, search by name, maker or barcode, filters.

import * as api from "../api.js";
import { field, h } from "../dom.js";
import { captureCard, categories, categorySelect, companyPicker } from "../catalog.js";
import { photoLoader } from "../photos.js";
import { heading, messages, pagedList, takeFlash } from "../ui.js";

const PAGE = 24;
// Digits of any script, spaces and dashes: a barcode in one of its printed forms.
const BARCODE = /^[\p{Nd}\s\p{Pd}]+$/u;

export function render(main, ctx) {
  const { signal } = ctx;
  const state = {
    q: ctx.query.get("q") || "",
    category: ctx.query.get("category") || "",
    company: ctx.query.get("company") || "",
    maker: ctx.query.get("maker") || "",
  };
  const report = messages();
  const photos = photoLoader(ctx);
  const summary = h("p", { class: "summary", role: "status" });

  const search = h("input", { type: "search", name: "q", value: state.q, enterkeyhint: "search" });
  const searchForm = h(
    "form",
    { class: "search", role: "search", method: "post" },
    field("Search by name, manufacturer or barcode", search),
    h("button", { type: "submit" }, "Search"),
  );

  const category = categorySelect([], { none: "All categories" });
  const maker = companyPicker({ value: state.maker, signal });
  const clear = h("button", { type: "button", class: "secondary" }, "Clear filters");
  const filterForm = h(
    "form",
    { class: "filters", method: "post" },
    h(
      "fieldset",
      {},
      h("legend", {}, "Filter the newest captures"),
      field("Category", category),
      field("Manufacturer", maker.input),
      maker.list,
      h("div", { class: "actions" }, h("button", { type: "submit" }, "Apply filters"), clear),
    ),
  );
  const backToNewest = h(
    "button",
    { type: "button", class: "secondary" },
    "Show the newest captures",
  );

  const gallery = pagedList({
    className: "gallery",
    signal,
    report,
    empty: () => (state.q ? "No product matches this search." : "No captures match these filters."),
    load: (cursor) => load(cursor),
    item: (product) => captureCard(product, photos),
  });

  async function load(cursor) {
    if (!state.q) {
      const { category: category_id, company: company_id } = state;
      return api.get(
        "/products.history",
        { scope: "all", category_id, company_id, cursor, limit: PAGE },
        { signal },
      );
    }
    if (!cursor && BARCODE.test(state.q) && /\p{Nd}/u.test(state.q)) {
      try {
        const found = await api.get(
          `/products.getByBarcode/${encodeURIComponent(state.q.trim())}`,
          {},
          { signal },
        );
        summary.textContent = `The product with barcode ${state.q.trim()}:`;
        return { data: [found.data], next_cursor: null };
      } catch (error) {
        // No product has it, or it is no barcode at all (a check digit that fails):
        // it may still be part of a name.
        if (!["product_not_found", "invalid_check_digit", "validation_failed"].includes(error.code))
          throw error;
      }
    }
    summary.textContent = `Products whose name or manufacturer contains “${state.q}”:`;
    return api.get("/products.search", { q: state.q, cursor, limit: PAGE }, { signal });
  }

  function show() {
    const filtered = Boolean(state.category || state.company);
    filterForm.hidden = Boolean(state.q);
    backToNewest.hidden = !state.q;
    clear.hidden = !filtered;
    if (!state.q) {
      const parts = [];
      if (state.category)
        parts.push(`in ${category.selectedOptions[0]?.textContent || "one category"}`);
      if (state.company) parts.push(`by ${state.maker}`);
      summary.textContent = parts.length
        ? `Newest captures ${parts.join(", ")}:`
        : "Newest captures, by everyone:";
    }
    ctx.setQuery(state);
    report.clear();
    gallery.reload();
  }

  searchForm.addEventListener("submit", (event) => {
    event.preventDefault();
    state.q = search.value.trim();
    show();
  });
  backToNewest.addEventListener("click", () => {
    state.q = "";
    search.value = "";
    show();
    search.focus();
  });
  filterForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    state.category = category.value;
    try {
      const company = await maker.resolve();
      if (maker.input.value.trim() && !company) {
        report.fail(
          `No single manufacturer matches “${maker.input.value.trim()}”. Pick one from the suggestions.`,
        );
        maker.input.focus();
        return;
      }
      state.company = company ? String(company.id) : "";
      state.maker = company ? company.name : "";
      maker.input.value = state.maker;
    } catch (error) {
      if (error.code !== "aborted") report.fail(error);
      return;
    }
    show();
  });
  clear.addEventListener("click", () => {
    state.category = "";
    state.company = "";
    state.maker = "";
    category.value = "";
    maker.input.value = "";
    show();
    category.focus();
  });

  main.append(
    heading("Captures"),
    searchForm,
    filterForm,
    h("div", { class: "summary-line" }, summary, backToNewest),
    report.element,
    gallery.element,
  );
  const flashed = takeFlash();
  if (flashed) report.ok(flashed);

  categories(signal)
    .then((list) => {
      const filled = categorySelect(list, { none: "All categories", selected: state.category });
      category.replaceChildren(...filled.children);
      category.value = state.category;
    })
    .catch((error) => {
      if (error.code !== "aborted") report.fail(error);
    })
    .finally(() => {
      if (!signal.aborted) {
        show();
        if (flashed) report.ok(flashed);
      }
    });
}
