// One product: its fields and every photo at full size; correct a field, delete a photo or it,
// merge it into its twin; its history.

import * as api from "../api.js";
import { bytes, field, fill, h, time } from "../dom.js";
import { author, categories, categorySelect, companyPicker } from "../catalog.js";
import { productHistory } from "../history.js";
import { mergeSection } from "../merge.js";
import { photoLoader } from "../photos.js";
import { confirm, describe, flash, heading, messages, takeFlash } from "../ui.js";

export function render(main, ctx) {
  const { signal } = ctx;
  const id = ctx.params.id;
  const title = heading("Product");
  const report = messages();
  main.append(
    h("p", { class: "back" }, h("a", { href: "#/captures" }, "Back to captures")),
    title,
    report.element,
  );
  const flashed = takeFlash();
  if (flashed) report.ok(flashed);

  Promise.all([
    api.get(`/products.getById/${encodeURIComponent(id)}`, {}, { signal }),
    categories(signal),
  ])
    .then(([answer, list]) => {
      if (!signal.aborted) draw(answer.data, list);
    })
    .catch((error) => {
      if (error.code === "aborted") return;
      if (error.code === "product_not_found" || error.status === 422) {
        title.textContent = "No such product";
        report.fail("This product does not exist, or it was deleted.");
      } else {
        report.fail(error);
      }
      title.focus();
    });

  function draw(product, categoryList) {
    const photos = photoLoader(ctx);
    const facts = h("dl", { class: "facts" });
    const showFacts = () => {
      title.textContent = product.name;
      document.title = `${product.name} · Admin console`;
      fill(
        facts,
        h("dt", {}, "Barcode"),
        h("dd", { class: "barcode" }, product.barcode),
        h("dt", {}, "Category"),
        h("dd", {}, product.category.name),
        h("dt", {}, "Manufacturer"),
        h("dd", {}, product.company.name),
        h("dt", {}, "Added by"),
        h(
          "dd",
          {},
          author(product),
          product.created_by.name ? ` (${product.created_by.email})` : "",
        ),
        h("dt", {}, "Added"),
        h("dd", {}, time(product.created_at)),
        h("dt", {}, "Last changed"),
        h("dd", {}, time(product.updated_at)),
      );
    };
    showFacts();

    // Correcting a field: only what changed is sent.
    const name = h("input", {
      type: "text",
      name: "name",
      required: true,
      maxlength: "200",
      value: product.name,
    });
    const barcode = h("input", {
      type: "text",
      name: "barcode",
      required: true,
      inputmode: "numeric",
      value: product.barcode,
    });
    const category = categorySelect(categoryList, { selected: product.category.id });
    const maker = companyPicker({ value: product.company.name, signal });
    const save = h("button", { type: "submit" }, "Save changes");
    const formReport = messages();
    const form = h(
      "form",
      { class: "edit", method: "post" },
      field("Name", name),
      field(
        "Barcode",
        barcode,
        "Spaces and dashes are ignored; a GTIN needs its right check digit.",
      ),
      field("Category", category),
      field("Manufacturer", maker.input, "Type part of the name and pick one."),
      maker.list,
      save,
      formReport.element,
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      formReport.clear();
      const changes = {};
      if (name.value.trim() !== product.name) changes.name = name.value.trim();
      if (barcode.value.trim() !== product.barcode) changes.barcode = barcode.value.trim();
      if (category.value !== String(product.category.id))
        changes.category_id = Number(category.value);
      save.disabled = true;
      try {
        if (maker.input.value.trim() !== product.company.name) {
          const company = await maker.resolve();
          if (!company) {
            formReport.fail(
              `No single manufacturer matches “${maker.input.value.trim()}”. Pick one from the suggestions.`,
            );
            maker.input.focus();
            return;
          }
          if (company.id !== product.company.id) changes.company_id = company.id;
        }
        if (!Object.keys(changes).length) {
          formReport.ok("Nothing to save: no field was changed.");
          return;
        }
        const answer = await api.post(
          "/products.update",
          { id: product.id, ...changes },
          { signal },
        );
        product = { ...answer.data };
        showFacts();
        name.value = product.name;
        barcode.value = product.barcode;
        maker.input.value = product.company.name;
        formReport.ok(answer.message ? `Saved. ${answer.message}` : "Saved.");
        history.reload();
      } catch (error) {
        if (error.code === "aborted") return;
        formReport.fail(conflictMessage(error));
      } finally {
        save.disabled = false;
      }
    });

    // Photos at full size, each with its own delete button.
    const photoCount = h("span", {});
    const gallery = h("ul", { class: "photos" });
    const noPhotos = h("p", { class: "empty" }, "No photos.");
    const countText = () => {
      const n = gallery.children.length;
      photoCount.textContent = String(n);
      noPhotos.hidden = n > 0;
    };
    product.photos.forEach((photo, index) => {
      const remove = h(
        "button",
        { type: "button", class: "danger", "aria-label": `Delete photo ${index + 1}` },
        "Delete photo",
      );
      const item = h(
        "li",
        { dataset: { photoId: String(photo.id) } },
        h(
          "figure",
          {},
          photos.show(photo.url, {
            alt: `Photo ${index + 1} of ${product.name}`,
            className: "full",
            link: `Open photo ${index + 1} at full size in a new tab`,
          }),
          h(
            "figcaption",
            {},
            `${photo.width} × ${photo.height} px · ${bytes(photo.size)} · added `,
            time(photo.created_at),
          ),
        ),
        remove,
      );
      remove.addEventListener("click", async () => {
        const sure = await confirm({
          title: `Delete photo ${index + 1}?`,
          text: "The photo and its thumbnail are deleted for good, on every phone at its next sync.",
          action: "Delete photo",
        });
        if (!sure) return;
        remove.disabled = true;
        try {
          await api.post("/photo.delete", { id: photo.id }, { signal });
          item.remove();
          countText();
          history.reload();
          report.ok(`Photo ${index + 1} deleted.`);
          photoHeading.focus();
        } catch (error) {
          if (error.code === "aborted") return;
          report.fail(error);
          remove.disabled = false;
          remove.focus();
        }
      });
      gallery.append(item);
    });
    countText();
    const photoHeading = h(
      "h2",
      { tabindex: "-1" },
      "Photos ",
      h("span", { class: "muted" }, "(", photoCount, ")"),
    );

    // Deleting the product.
    const deleteProduct = h("button", { type: "button", class: "danger" }, "Delete product");
    deleteProduct.addEventListener("click", async () => {
      const sure = await confirm({
        title: `Delete “${product.name}”?`,
        text: "It disappears from every list and from the phones at their next sync; its barcode becomes free again.",
        action: "Delete product",
      });
      if (!sure) return;
      deleteProduct.disabled = true;
      try {
        await api.post("/products.delete", { id: product.id }, { signal });
        flash(`Deleted “${product.name}”.`);
        ctx.navigate("/captures");
      } catch (error) {
        if (error.code === "aborted") return;
        report.fail(error);
        deleteProduct.disabled = false;
        deleteProduct.focus();
      }
    });

    const history = productHistory(product.id, { signal, report });
    const merge = mergeSection(product, {
      signal,
      done: (kept) => ctx.navigate(`/products/${kept.id}`),
    });

    // Facts, photos, then the forms: on a phone the photos come before the long form.
    main.append(
      h(
        "div",
        { class: "product" },
        h("section", { class: "about", "aria-label": "Fields" }, facts),
        h("section", { class: "pictures" }, photoHeading, noPhotos, gallery),
        h("section", { class: "correct" }, h("h2", {}, "Correct a field"), form),
        merge,
        h("section", { class: "danger-zone" }, h("h2", {}, "Delete"), deleteProduct),
        h("section", { class: "changes" }, h("h2", {}, "History"), history.element),
      ),
    );
    history.reload();
  }
}

function conflictMessage(error) {
  if (error.code === "barcode_taken" && error.data) {
    return `Another product has this barcode already: “${error.data.name}” (#${error.data.id}).`;
  }
  return describe(error);
}
