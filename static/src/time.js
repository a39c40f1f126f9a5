// Dates: the day on screen, the exact time on hover and for screen readers.
import { h } from "./dom.js";

export function when(iso, lang) {
  const date = new Date(iso);
  const full = date.toLocaleString(lang, { dateStyle: "long", timeStyle: "short" });
  return h("time", { datetime: iso, title: full, "aria-label": full, text: date.toLocaleDateString(lang) });
}
