// Dashboard: captures per day as a chart (and the same as a table), everyone's or one
// person's; products without photos, photos per product, the makers with the most products,
// and who was the most active this week. Everything comes from /stats.get.

import * as api from "../api.js";
import { barChart } from "../chart.js";
import { longDay, shortDay } from "../dates.js";
import { field, fill, h } from "../dom.js";
import { nameOf, personLink } from "../people.js";
import { heading, messages } from "../ui.js";

const WINDOWS = [30, 90];
const count = (n, one, many) => `${n.toLocaleString()} ${n === 1 ? one : many}`;

export function render(main, ctx) {
  const { signal } = ctx;
  const asked = Number(ctx.query.get("days"));
  let days = WINDOWS.includes(asked) ? asked : WINDOWS[0];
  let person = ctx.query.get("person") || "";
  let stats = null;
  const report = messages();

  const windows = WINDOWS.map((n) =>
    h(
      "button",
      { type: "button", class: "chip", "aria-pressed": String(n === days), dataset: { days: n } },
      `Last ${n} days`,
    ),
  );
  const windowGroup = h(
    "div",
    { class: "chips", role: "group", "aria-label": "Days shown" },
    windows,
  );
  windowGroup.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    days = Number(button.dataset.days);
    for (const b of windows) b.setAttribute("aria-pressed", String(b === button));
    load();
  });
  const who = h("select", { name: "person" });
  who.addEventListener("change", () => {
    person = who.value;
    remember();
    drawCaptures();
  });

  const summary = h("p", { class: "summary", role: "status" });
  const chartBox = h("div", { class: "chart-box" });
  const table = h("table", { class: "data" });
  const numbers = h("div", { class: "numbers" });
  const makers = h("ol", { class: "ranking" });
  const week = h("div", {});

  function remember() {
    ctx.setQuery({ days: days === WINDOWS[0] ? "" : String(days), person });
  }

  async function load() {
    remember();
    report.clear();
    summary.textContent = "Counting…";
    try {
      const answer = await api.get("/stats.get", { days }, { signal });
      stats = answer.data;
      drawPeople();
      drawCaptures();
      drawCatalogue();
      drawMakers();
      drawWeek();
    } catch (error) {
      if (error.code !== "aborted") report.fail(error);
    }
  }

  function drawPeople() {
    const options = [...stats.people].sort((a, b) => nameOf(a).localeCompare(nameOf(b)));
    fill(
      who,
      h("option", { value: "" }, "Everyone"),
      options.map((p) => h("option", { value: String(p.id) }, nameOf(p))),
    );
    // Someone with no capture in this window is not in the list: back to everyone.
    if (!options.some((p) => String(p.id) === person)) person = "";
    who.value = person;
  }

  function drawCaptures() {
    const chosen = stats.people.find((p) => String(p.id) === person);
    const values = chosen ? chosen.per_day : stats.captures_per_day;
    const whose = chosen ? nameOf(chosen) : "everyone";
    const total = values.reduce((sum, n) => sum + n, 0);
    const best = values.indexOf(Math.max(...values));
    const span = `from ${longDay(stats.from)} to ${longDay(stats.to)}`;
    summary.textContent = `${count(total, "capture", "captures")} by ${whose}, ${span} (UTC).`;
    const told =
      total === 0
        ? `No captures by ${whose} ${span}.`
        : `${count(total, "capture", "captures")} by ${whose} ${span}; ` +
          `the most on ${longDay(stats.dates[best])}: ${values[best]}.`;
    fill(
      chartBox,
      barChart({
        labels: stats.dates,
        values,
        label: shortDay,
        tell: (i) => `${longDay(stats.dates[i])}: ${count(values[i], "capture", "captures")}`,
        title: `Captures per day by ${whose}, last ${stats.days} days`,
        summary: told,
        // The box's room inside its padding and border.
        width: chartBox.clientWidth - 18 || 720,
      }),
    );
    fill(
      table,
      h("caption", {}, `Captures per day by ${whose}, ${span}`),
      h(
        "thead",
        {},
        h("tr", {}, h("th", { scope: "col" }, "Day"), h("th", { scope: "col" }, "Captures")),
      ),
      h(
        "tbody",
        {},
        stats.dates.map((day, i) =>
          h("tr", {}, h("th", { scope: "row" }, longDay(day)), h("td", {}, String(values[i]))),
        ),
      ),
    );
  }

  function drawCatalogue() {
    const spread = stats.photos_per_product;
    const most = spread.length - 1;
    fill(
      numbers,
      card("Live products", stats.products.toLocaleString()),
      card("Without photos", stats.products_without_photos.toLocaleString()),
      card("With photos", stats.products_with_photos.toLocaleString()),
      h(
        "table",
        { class: "data spread" },
        h("caption", {}, "Photos per product"),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col" }, "Photos"),
            h("th", { scope: "col" }, "Products"),
            h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Share")),
          ),
        ),
        h(
          "tbody",
          {},
          spread.map((bar, i) =>
            h(
              "tr",
              {},
              h("th", { scope: "row" }, i === most ? `${bar.photos} or more` : String(bar.photos)),
              h("td", {}, bar.products.toLocaleString()),
              h(
                "td",
                {},
                h("meter", {
                  min: "0",
                  max: String(Math.max(stats.products, 1)),
                  value: String(bar.products),
                  "aria-label": `Share of products with ${bar.photos} photos`,
                }),
              ),
            ),
          ),
        ),
      ),
    );
  }

  function drawMakers() {
    fill(
      makers,
      stats.top_companies.length
        ? stats.top_companies.map((maker) =>
            h(
              "li",
              {},
              h(
                "a",
                {
                  href: `#/captures?company=${maker.id}&maker=${encodeURIComponent(maker.name)}`,
                },
                maker.name,
              ),
              ` · ${count(maker.products, "product", "products")}`,
            ),
          )
        : h("li", { class: "empty" }, "No products yet."),
    );
  }

  function drawWeek() {
    const people = stats.week.people;
    fill(
      week,
      h("p", { class: "lead" }, `From ${longDay(stats.week.from)} to ${longDay(stats.week.to)}.`),
      people.length
        ? h(
            "table",
            { class: "data" },
            h("caption", { class: "visually-hidden" }, "The most active people this week"),
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                ["Who", "Captures", "Photos"].map((t) => h("th", { scope: "col" }, t)),
              ),
            ),
            h(
              "tbody",
              {},
              people.map((p) =>
                h(
                  "tr",
                  {},
                  h("th", { scope: "row" }, personLink(p)),
                  h("td", {}, String(p.captures)),
                  h("td", {}, String(p.photos)),
                ),
              ),
            ),
          )
        : h("p", { class: "empty" }, "Nobody captured anything this week."),
    );
  }

  main.append(
    heading("Dashboard"),
    report.element,
    h(
      "section",
      { "aria-labelledby": "captures-per-day" },
      h("h2", { id: "captures-per-day" }, "Captures per day"),
      h("div", { class: "toolbar" }, windowGroup, field("Whose captures", who)),
      summary,
      chartBox,
      h("details", {}, h("summary", {}, "The same as a table"), table),
    ),
    h(
      "div",
      { class: "dashboard" },
      h("section", {}, h("h2", {}, "The catalogue"), numbers),
      h("section", {}, h("h2", {}, "Makers with the most products"), makers),
      h("section", {}, h("h2", {}, "Most active this week"), week),
    ),
  );
  load();
}

function card(label, value) {
  return h("p", { class: "number" }, h("span", { class: "value" }, value), h("span", {}, label));
}
