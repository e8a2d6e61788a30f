// A bar chart drawn as SVG by the page's own code: bars, a baseline, a few labels. Only
// attributes are set (the policy forbids inline styles); colours come from console.css. The
// data go in as text: titles and labels are text nodes, never markup.

const NS = "http://www.w3.org/2000/svg";
const MARGIN = { top: 12, right: 8, bottom: 30, left: 44 };
let charts = 0;

function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attributes)) {
    element.setAttribute(name, String(value));
  }
  for (const child of children) {
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** The smallest round number (1, 2 or 5 times a power of ten) at or above `value`. */
function roundUp(value) {
  const power = 10 ** Math.floor(Math.log10(Math.max(value, 1)));
  return [1, 2, 5, 10].map((step) => step * power).find((round) => round >= value);
}

/**
 * A bar per value: `labels[i]` names bar i on the axis (`label(l)` formats it), `tell(i)` says
 * what bar i shows ("Nov 3: 5 captures", each bar's tooltip), `title` and `summary` describe
 * the whole chart to screen readers (which are also offered the same data as a table).
 * `width` is the room it has, in CSS pixels: text keeps its size on a phone.
 */
export function barChart({ labels, values, label = String, tell, title, summary, width = 720 }) {
  charts += 1;
  const WIDTH = Math.max(Math.round(width), 280);
  const HEIGHT = WIDTH < 500 ? 200 : 240;
  const ids = { title: `chart-title-${charts}`, summary: `chart-summary-${charts}` };
  const plot = {
    width: WIDTH - MARGIN.left - MARGIN.right,
    height: HEIGHT - MARGIN.top - MARGIN.bottom,
  };
  const top = roundUp(Math.max(...values, 1));
  const y = (value) => MARGIN.top + plot.height - (value / top) * plot.height;
  const slot = plot.width / Math.max(values.length, 1);
  const chart = svg(
    "svg",
    {
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      role: "img",
      "aria-labelledby": ids.title,
      "aria-describedby": ids.summary,
      class: "chart",
    },
    svg("title", { id: ids.title }, title),
    svg("desc", { id: ids.summary }, summary),
  );
  for (const value of [0, top / 2, top]) {
    chart.append(
      svg("line", {
        class: value === 0 ? "axis" : "grid",
        x1: MARGIN.left,
        x2: WIDTH - MARGIN.right,
        y1: y(value),
        y2: y(value),
      }),
      svg(
        "text",
        { class: "tick", x: MARGIN.left - 6, y: y(value) + 4, "text-anchor": "end" },
        Number.isInteger(value) ? value : value.toFixed(1),
      ),
    );
  }
  // A label every 80 pixels or so, whatever the number of bars.
  const every = Math.ceil(values.length / Math.max(Math.floor(plot.width / 80), 1));
  values.forEach((value, index) => {
    const x = MARGIN.left + index * slot;
    chart.append(
      svg(
        "rect",
        {
          class: "bar",
          x: x + slot * 0.15,
          y: y(value),
          width: Math.max(slot * 0.7, 1),
          height: MARGIN.top + plot.height - y(value),
        },
        svg("title", {}, tell(index)),
      ),
    );
    if (index % every === 0) {
      chart.append(
        svg(
          "text",
          { class: "tick", x: x + slot / 2, y: HEIGHT - 10, "text-anchor": "middle" },
          label(labels[index]),
        ),
      );
    }
  });
  return chart;
}
