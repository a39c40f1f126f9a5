// Parley's embed.js: <div id="parley"></div><script src=".../embed.js" data-site="S" async>.
// Plain JavaScript, no framework, no cookies; each thread renders inside an open Shadow DOM
// root. Editing, preview and subscribing load on first use from /embed-extra.js.
import { client as makeApi } from "./api.js";
import { mountThread } from "./view.js";

const script = document.currentScript; // a classic script: set while it runs
const base = new URL(script.src).origin;
// The script's own data-* (data-lang, data-theme…) are every thread's defaults.
const defaults = { ...script.dataset, site: script.dataset.site || "default" };
// The server inlines its field limits (widget/limits.py) and the minified embed.css here.
const LIMITS = "__PARLEY_LIMITS__";
const CSS = "__PARLEY_CSS__";
const mounted = new Set();
let theme = "";

/** Show a thread in `host`; returns {refresh(), destroy()}. */
function mount(host, options = {}) {
  // Parley.setTheme() wins over the script's data-theme, not over the thread's own.
  const opts = { ...defaults, ...(theme && { theme }), ...host.dataset, ...options };
  const handle = mountThread(host, opts, { base, css: CSS, limits: LIMITS, api: makeApi(base, opts.site) });
  mounted.add(handle);
  handle.onDestroy = () => mounted.delete(handle);
  return handle;
}

/** Follow a site's own dark/light toggle: "light", "dark" or "auto". */
function setTheme(value) {
  theme = value;
  for (const handle of mounted) handle.setTheme(value);
}

async function showCounts() {
  const els = [...document.querySelectorAll("[data-parley-count]")];
  const keys = [...new Set(els.map((el) => el.dataset.parleyCount))];
  const api = makeApi(base, defaults.site);
  // A long archive page asks in a few requests, each URL under what servers and proxies
  // take (gunicorn: 4 KB a request line): 2 KB, then one more key of up to 512 characters.
  while (keys.length) {
    const params = api.query({});
    while (keys.length && (params + "").length < 2e3) params.append("thread", keys.shift());
    // A number for each key asked (0 for a thread not yet begun); counts are decoration:
    // an answer that did not come leaves the page as it was.
    const { data } = await api.request("GET", "counts?" + params).catch(() => ({}));
    els.forEach((el) => { const n = data?.[el.dataset.parleyCount]; if (n >= 0) el.textContent = n; });
  }
}

window.Parley = { mount, setTheme };
const host = document.getElementById("parley");
if (host) mount(host);
showCounts();
// "Recent comments" blocks (data-parley-recent="N") come with the second chunk.
const recent = document.querySelectorAll("[data-parley-recent]");
if (recent.length) import(base + "/embed-extra.js").then((m) => m.recent(makeApi(base, defaults.site), recent));
