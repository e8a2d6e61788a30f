// Export: the whole catalogue as CSV or JSON, fetched with the token and saved from a blob.

import * as api from "../api.js";
import { bytes, h } from "../dom.js";
import { heading, messages } from "../ui.js";

const FORMATS = [
  { format: "csv", label: "Download CSV", about: "for a spreadsheet (UTF-8)" },
  { format: "json", label: "Download JSON", about: "for a program" },
];

export function render(main, ctx) {
  const report = messages();
  const buttons = FORMATS.map(({ format, label, about }) => {
    const button = h("button", { type: "button", dataset: { format } }, label);
    button.addEventListener("click", () => download(format, button));
    return h("li", {}, button, h("span", { class: "hint" }, ` ${about}`));
  });

  async function download(format, button) {
    button.disabled = true;
    report.ok("Preparing the file…");
    try {
      const { blob, filename } = await api.file(`/products.export?format=${format}`, {
        signal: ctx.signal,
      });
      const name = filename || `products.${format}`;
      const url = URL.createObjectURL(blob);
      const link = h("a", { href: url, download: name, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      // The download has its own copy once started; the blob URL is not needed after.
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      report.ok(`Saved ${name} (${bytes(blob.size)}).`);
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
  );
}
