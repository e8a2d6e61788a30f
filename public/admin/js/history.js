// A product's history, from /products.changes: who added it, who changed what and when, its
// photos, merges. Each event is a sentence; values are text.

import * as api from "./api.js";
import { h, time } from "./dom.js";
import { nameOf } from "./people.js";
import { pagedList } from "./ui.js";

const photos = (n) => (n === 1 ? "1 photo" : `${n} photos`);
const FIELDS = { name: "name", barcode: "barcode", category: "category", company: "manufacturer" };

function value(field, shown) {
  return field === "category" || field === "company" ? shown.name : shown;
}

function changed(details) {
  // Events recorded before values were kept name only the fields sent.
  if (!details.changes) {
    return `changed the ${details.fields.map((f) => FIELDS[f] || f).join(", ")}`;
  }
  const parts = Object.entries(details.changes).map(
    ([field, { from, to }]) =>
      `the ${FIELDS[field] || field} from “${value(field, from)}” to “${value(field, to)}”`,
  );
  return parts.length ? `changed ${parts.join("; ")}` : "saved it without a change";
}

/** The sentence that tells an event, after who did it. */
function told(event) {
  const { details } = event;
  switch (event.kind) {
    case "product_added":
      return "added it";
    case "product_updated":
      return changed(details);
    case "photo_uploaded":
      return `added photo #${details.photo_id}`;
    case "photo_deleted":
      return `deleted photo #${details.photo_id}`;
    case "product_deleted":
      return "deleted it";
    case "products_merged":
      return (
        `merged product #${details.from_product_id} into it (${photos(details.photos_moved)} ` +
        `moved, ${details.photos_already_there} there already)`
      );
    default:
      return event.kind.replaceAll("_", " ");
  }
}

/** The history of a product, newest first, paged. Returns {element, reload}. */
export function productHistory(productId, { signal, report }) {
  return pagedList({
    tag: "ol",
    className: "history",
    signal,
    report,
    empty: "Nothing recorded yet.",
    load: (cursor) =>
      api.get(`/products.changes/${productId}`, { cursor, limit: 20 }, { signal }),
    item: (event) =>
      h(
        "li",
        { dataset: { kind: event.kind } },
        h("span", { class: "who" }, event.by ? nameOf(event.by) : "Someone since removed"),
        ` ${told(event)}, `,
        time(event.created_at),
      ),
  });
}
