// Duplicates: manufacturers whose names are alike, grouped; pick the one to keep and merge the
// others into it. Products keyed twice are merged from a product's page.

import * as api from "../api.js";
import { h } from "../dom.js";
import { confirm, heading, messages, pagedList } from "../ui.js";

const REASONS = {
  same_name: "The same name, written differently",
  similar_name: "Names alike",
};
const products = (n) => (n === 1 ? "1 product" : `${n.toLocaleString()} products`);

export function render(main, ctx) {
  const { signal } = ctx;
  const report = messages();
  let groups = 0;

  const list = pagedList({
    className: "twins",
    signal,
    report,
    empty: "No likely twins: every manufacturer's name stands apart.",
    load: (cursor) => api.get("/companies.duplicates", { cursor, limit: 20 }, { signal }),
    item: (group) => twins(group),
  });

  function twins(group) {
    groups += 1;
    const name = `keep-${groups}`;
    const groupReport = messages();
    const choices = group.companies.map((company, index) =>
      h(
        "li",
        {},
        h("input", {
          type: "radio",
          name,
          id: `${name}-${company.id}`,
          value: String(company.id),
          checked: index === 0,
        }),
        h(
          "label",
          { for: `${name}-${company.id}` },
          `Keep ${company.name}`,
          h("span", { class: "muted" }, ` · ${products(company.products)}`),
        ),
      ),
    );
    const merge = h("button", { type: "submit" }, "Merge into the one kept");
    const form = h(
      "form",
      { class: "twin", method: "post" },
      h(
        "fieldset",
        {},
        h("legend", {}, group.companies.map((c) => c.name).join(" · ")),
        h(
          "p",
          { class: "reason" },
          `${REASONS[group.reason] || group.reason}` +
            (group.reason === "same_name" ? "" : ` (${Math.round(group.similarity * 100)}%)`),
        ),
        h("ul", { class: "choices" }, choices),
        merge,
        groupReport.element,
      ),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const keptId = Number(new FormData(form).get(name));
      const kept = group.companies.find((c) => c.id === keptId);
      const others = group.companies.filter((c) => c.id !== keptId);
      const sure = await confirm({
        title: `Merge into ${kept.name}?`,
        text:
          `${others.map((c) => c.name).join(", ")} will be removed; their products move to ` +
          `${kept.name}, and the phones learn it at their next sync. This cannot be undone.`,
        action: "Merge",
      });
      if (!sure) return;
      merge.disabled = true;
      groupReport.clear();
      let moved = 0;
      try {
        for (const other of others) {
          const answer = await api.post(
            "/companies.merge",
            { from_id: other.id, into_id: kept.id },
            { signal },
          );
          moved += answer.data.products_moved;
        }
        form.closest("li").remove();
        report.ok(
          `Merged ${others.map((c) => c.name).join(", ")} into ${kept.name}: ` +
            `${products(moved)} moved.`,
        );
        main.querySelector("h1").focus();
      } catch (error) {
        if (error.code === "aborted") return;
        groupReport.fail(error);
        merge.disabled = false;
        merge.focus();
      }
    });
    return h("li", {}, form);
  }

  main.append(
    heading("Duplicates"),
    h(
      "p",
      { class: "lead" },
      "Offline capture makes twins: “Cevital” and “CEVITAL Spa”. Below are manufacturers whose " +
        "names are alike, the one with the most products first. Merging keeps one: the others' " +
        "products move to it, and whatever a phone still sends under their names lands on it.",
    ),
    h(
      "p",
      { class: "hint" },
      "A product keyed twice (before a barcode correction, say) is merged from its page: open " +
        "it among the captures, then “Merge into another product”.",
    ),
    report.element,
    h("h2", {}, "Manufacturers"),
    list.element,
  );
  list.reload();
}
