// Dates: relative on screen ("3 days ago"), absolute on hover and for screen readers.
import { h } from "./dom.js";

const UNITS = [["year", 31536e3], ["month", 2592e3], ["day", 864e2], ["hour", 3600], ["minute", 60]];

export function when(iso, lang) {
  const date = new Date(iso);
  const secs = (date - Date.now()) / 1000;
  const full = date.toLocaleString(lang, { dateStyle: "long", timeStyle: "short" });
  let text = full;
  try {
    const [unit, size] = UNITS.find(([, s]) => Math.abs(secs) >= s) || ["second", 1];
    text = new Intl.RelativeTimeFormat(lang, { numeric: "auto" }).format(Math.round(secs / size), unit);
  } catch (e) { /* the full date it is */ }
  return h("time", { datetime: iso, title: full, "aria-label": full, text });
}
