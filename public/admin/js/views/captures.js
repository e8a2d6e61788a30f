// Captures: the newest products as a gallery; search by name, maker or barcode; filter by
// category, maker, staff member and date range; export what the filters keep.

import * as api from "../api.js";
import { captureCard, categories, categorySelect, companyPicker } from "../catalog.js";
import { longDay, range } from "../dates.js";
import { field, h } from "../dom.js";
import { download, exportUrl } from "../download.js";
import { everyone, nameOf, personSelect } from "../people.js";
import { photoLoader } from "../photos.js";
import { heading, messages, pagedList, takeFlash } from "../ui.js";

const PAGE = 24;
// Digits of any script, spaces and dashes: a barcode in one of its printed forms.
const BARCODE = /^[\p{Nd}\s\p{Pd}]+$/u;
const KEYS = ["q", "category", "company", "maker", "person", "from", "until"];

export function render(main, ctx) {
  const { signal } = ctx;
  const state = Object.fromEntries(KEYS.map((key) => [key, ctx.query.get(key) || ""]));
  const report = messages();
  const photos = photoLoader(ctx);
  const summary = h("p", { class: "summary", role: "status" });
  let staff = [];

  const search = h("input", { type: "search", name: "q", value: state.q, enterkeyhint: "search" });
  const searchForm = h(
    "form",
    { class: "search", role: "search", method: "post" },
    field("Search by name, manufacturer or barcode", search),
    h("button", { type: "submit" }, "Search"),
  );

  const category = categorySelect([], { none: "All categories" });
  const maker = companyPicker({ value: state.maker, signal });
  const person = personSelect([], { none: "Everyone" });
  const from = h("input", { type: "date", name: "from", value: state.from });
  const until = h("input", { type: "date", name: "until", value: state.until });
  const clear = h("button", { type: "button", class: "secondary" }, "Clear filters");
  const filterForm = h(
    "form",
    { class: "filters", method: "post" },
    h(
      "fieldset",
      {},
      h("legend", {}, "Filter the captures"),
      field("Category", category),
      field("Manufacturer", maker.input),
      maker.list,
      field("Staff member", person),
      field("Added from", from, "A day (UTC), included."),
      field("Added until", until, "A day (UTC), included."),
      h("div", { class: "actions" }, h("button", { type: "submit" }, "Apply filters"), clear),
    ),
  );
  const backToNewest = h("button", { type: "button", class: "secondary" }, "Clear the search");
  const exports = ["csv", "json"].map((format) => {
    const button = h(
      "button",
      { type: "button", class: "secondary", dataset: { format } },
      `Export these as ${format.toUpperCase()}`,
    );
    button.addEventListener("click", () => exportShown(format, button));
    return button;
  });

  const gallery = pagedList({
    className: "gallery",
    signal,
    report,
    empty: () => (state.q ? "No product matches this search." : "No captures match these filters."),
    load: (cursor) => load(cursor),
    item: (product) => captureCard(product, photos),
  });

  /** The API's filters for the current state. */
  function filters() {
    const dates = range(state.from, state.until);
    return {
      category_id: state.category,
      company_id: state.company,
      created_by: state.person,
      from: dates.from,
      to: dates.to,
    };
  }

  async function load(cursor) {
    if (!state.q) {
      return api.get(
        "/products.history",
        { scope: "all", ...filters(), cursor, limit: PAGE },
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
    return api.get(
      "/products.search",
      { q: state.q, ...filters(), cursor, limit: PAGE },
      { signal },
    );
  }

  function described() {
    const parts = [];
    if (state.category)
      parts.push(`in ${category.selectedOptions[0]?.textContent || "one category"}`);
    if (state.company) parts.push(`by ${state.maker}`);
    if (state.person) {
      const who = staff.find((user) => String(user.id) === state.person);
      parts.push(`captured by ${who ? nameOf(who) : "one person"}`);
    }
    if (state.from) parts.push(`from ${longDay(state.from)}`);
    if (state.until) parts.push(`until ${longDay(state.until)}`);
    return parts;
  }

  function show() {
    const filtered = ["category", "company", "person", "from", "until"].some((k) => state[k]);
    backToNewest.hidden = !state.q;
    clear.hidden = !filtered;
    const parts = described();
    const scope = parts.length ? ` ${parts.join(", ")}` : "";
    summary.textContent = state.q
      ? `Products whose name or manufacturer contains “${state.q}”${scope}:`
      : `Newest captures${scope || ", by everyone"}:`;
    ctx.setQuery(state);
    report.clear();
    gallery.reload();
  }

  async function exportShown(format, button) {
    button.disabled = true;
    report.ok("Preparing the file…");
    try {
      const url = exportUrl(format, { q: state.q, ...filters() });
      report.ok(await download(url, { signal, fallback: `products.${format}` }));
    } catch (error) {
      if (error.code !== "aborted") report.fail(error);
    } finally {
      button.disabled = false;
    }
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
    if (from.value && until.value && from.value > until.value) {
      report.fail("“Added from” comes after “Added until”: swap them.");
      from.focus();
      return;
    }
    Object.assign(state, {
      category: category.value,
      person: person.value,
      from: from.value,
      until: until.value,
    });
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
    for (const key of ["category", "company", "maker", "person", "from", "until"]) state[key] = "";
    for (const input of [category, person, from, until, maker.input]) input.value = "";
    show();
    category.focus();
  });

  main.append(
    heading("Captures"),
    searchForm,
    filterForm,
    h("div", { class: "summary-line" }, summary, backToNewest),
    h("div", { class: "actions exports" }, exports),
    report.element,
    gallery.element,
  );
  const flashed = takeFlash();
  if (flashed) report.ok(flashed);

  Promise.all([categories(signal), everyone(signal)])
    .then(([list, people]) => {
      const filled = categorySelect(list, { none: "All categories", selected: state.category });
      category.replaceChildren(...filled.children);
      category.value = state.category;
      staff = people;
      person.replaceChildren(...personSelect(people, { selected: state.person }).children);
      person.value = state.person;
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
