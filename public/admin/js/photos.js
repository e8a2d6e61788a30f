// Photos are fetched with the bearer token and shown through blob: URLs, so they keep working
// when photo URLs need a signed-in caller. A view's blob URLs are released when it is left.

import * as api from "./api.js";
import { h } from "./dom.js";

const AT_ONCE = 4; // parallel downloads: a gallery page does not flood the server

/** A loader bound to one view: `show(url, alt)` returns an element that fills in when loaded. */
export function photoLoader({ signal, onLeave }) {
  const made = [];
  const waiting = [];
  let running = 0;
  onLeave(() => {
    waiting.length = 0;
    for (const url of made) URL.revokeObjectURL(url);
  });

  function next() {
    while (running < AT_ONCE && waiting.length) {
      const job = waiting.shift();
      running += 1;
      load(job).finally(() => {
        running -= 1;
        next();
      });
    }
  }

  async function load({ url, img, frame, link }) {
    try {
      const { blob } = await api.file(url, { signal });
      if (signal.aborted) return;
      const objectUrl = URL.createObjectURL(blob);
      made.push(objectUrl);
      img.addEventListener("load", () => frame.classList.remove("loading"), { once: true });
      img.src = objectUrl;
      if (link) {
        const anchor = h("a", {
          href: objectUrl,
          target: "_blank",
          rel: "noopener",
          "aria-label": link,
        });
        img.replaceWith(anchor);
        anchor.append(img);
      }
    } catch (error) {
      if (error.code === "aborted" || signal.aborted) return;
      frame.classList.remove("loading");
      frame.replaceChildren(h("span", { class: "photo-missing" }, "Photo unavailable"));
    }
  }

  return {
    /** `link`, if given, labels a link that opens the loaded photo by itself. */
    show(url, { alt = "", className = "", link = "" } = {}) {
      const img = h("img", { alt, decoding: "async" });
      const frame = h("span", { class: ["photo", "loading", className] }, img);
      if (!url) {
        frame.replaceChildren(h("span", { class: "photo-missing" }, "Photo unavailable"));
        frame.classList.remove("loading");
        return frame;
      }
      waiting.push({ url, img, frame, link });
      next();
      return frame;
    },
  };
}
