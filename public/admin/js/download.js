// Downloads: a file fetched with the bearer token, saved from a blob under the server's name.

import * as api from "./api.js";
import { bytes, h } from "./dom.js";

/** Fetch `url` with the token and save it; returns "Saved name (size)." for the status line. */
export async function download(url, { signal, fallback }) {
  const { blob, filename } = await api.file(url, { signal });
  const name = filename || fallback;
  const objectUrl = URL.createObjectURL(blob);
  const link = h("a", { href: objectUrl, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  // The download has its own copy once started; the blob URL is not needed after.
  setTimeout(() => URL.revokeObjectURL(objectUrl), 60_000);
  return `Saved ${name} (${bytes(blob.size)}).`;
}

/** The export's address for a format and the filters of a list (empty values left out). */
export function exportUrl(format, filters = {}) {
  const params = new URLSearchParams({ format });
  for (const [key, value] of Object.entries(filters)) {
    if (value !== null && value !== undefined && value !== "") params.set(key, String(value));
  }
  return `/products.export?${params}`;
}
