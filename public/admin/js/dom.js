// Building the page. Every value is set as text or as a plain attribute: nothing is ever
// parsed as HTML, so a product named "<img src=x onerror=...>" shows as those characters.

const FORBIDDEN = /^(on|innerhtml$|outerhtml$|style$|srcdoc$)/i;

/**
 * Create an element: h("button", {type: "button", class: "danger", onclick: fn}, "Delete").
 * Children may be nodes, strings (added as text), numbers, or null/false (skipped).
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") {
      element.className = Array.isArray(value) ? value.filter(Boolean).join(" ") : value;
    } else if (key.startsWith("on") && typeof value === "function") {
      element.addEventListener(key.slice(2), value);
    } else if (FORBIDDEN.test(key)) {
      throw new Error(`h(): ${key} is not allowed`);
    } else if (key === "dataset") {
      Object.assign(element.dataset, value);
    } else if (key === "value" || key === "checked" || key === "selected") {
      element[key] = value;
    } else {
      element.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

/** Append children (nodes, text, nested arrays) to a node. */
export function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replace a node's content. */
export function fill(node, ...children) {
  node.replaceChildren();
  return append(node, children);
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** A <time> element for an ISO 8601 instant, in the reader's time zone. */
export function time(iso) {
  if (!iso) return h("span", {}, "never");
  return h("time", { datetime: iso }, dateFormat.format(new Date(iso)));
}

/** A size in bytes for people: 2.3 MB. */
export function bytes(size) {
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(0)} KB`;
  return `${(size / 1024 / 1024).toFixed(1)} MB`;
}

let uniqueId = 0;

/** A fresh id for pairing a label with its input. */
export function newId(prefix) {
  uniqueId += 1;
  return `${prefix}-${uniqueId}`;
}

/** A label and its input, paired by id; `help` adds a described-by hint. */
export function field(label, input, help) {
  input.id ||= newId("field");
  const parts = [h("label", { for: input.id }, label), input];
  if (help) {
    const hint = h("p", { class: "hint", id: newId("hint") }, help);
    input.setAttribute("aria-describedby", hint.id);
    parts.push(hint);
  }
  return h("div", { class: "field" }, parts);
}
