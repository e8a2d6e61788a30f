// Export: the whole catalogue as CSV or JSON, fetched with the token and saved from a blob.
// A part of it is exported from the captures, with their filters.

import { h } from "../dom.js";
import { download, exportUrl } from "../download.js";
import { heading, messages } from "../ui.js";

const FORMATS = [
  { format: "csv", label: "Download CSV", about: "for a spreadsheet (UTF-8)" },
  { format: "json", label: "Download JSON", about: "for a program" },
];

export function render(main, ctx) {
  const report = messages();
  const buttons = FORMATS.map(({ format, label, about }) => {
    const button = h("button", { type: "button", dataset: { format } }, label);
    button.addEventListener("click", () => save(format, button));
    return h("li", {}, button, h("span", { class: "hint" }, ` ${about}`));
  });

  async function save(format, button) {
    button.disabled = true;
    report.ok("Preparing the file…");
    try {
      report.ok(
        await download(exportUrl(format), { signal: ctx.signal, fallback: `products.${format}` }),
      );
    } catch (error) {
      if (error.code !== "aborted") report.fail(error);
    } finally {
      button.disabled = false;
    }
  }

  main.append(
    heading("Export"),
    h(
      "p",
      { class: "lead" },
      "The whole live catalogue: every product with its category, manufacturer, who added it, " +
        "when, and the addresses of its photos.",
    ),
    h("ul", { class: "downloads" }, buttons),
    report.element,
    h(
      "p",
      { class: "hint" },
      "To export part of the catalogue (a category, a maker, someone's captures, some days), " +
        "filter the captures, then export them there.",
    ),
  );
}
