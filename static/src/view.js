// One mounted thread: its elements, its state, and what readers do to it.
import { renderComment, voteButtons } from "./comment.js";
import { h, safeHTML } from "./dom.js";
import { commentForm, freshToken } from "./form.js";
import { t, useLanguage } from "./i18n.js";
import { live, store } from "./store.js";
import { loadPage, threadState } from "./thread.js";

const RTL = /^(ar|he|fa|ur)$/;

// The canonical URL's path and query (WordPress's plain permalinks are `/?p=12`), else
// the page's path: its query may be a campaign's or a reader's own.
function threadKey(opts) {
  const href = document.querySelector("link[rel=canonical]")?.href; // absolute already
  if (opts.thread) return opts.thread;
  if (!href) return location.pathname;
  const url = new URL(href);
  return url.pathname + url.search;
}

/** Mount, or leave a plain link to the no-JavaScript page when the widget cannot run. */
export function mountThread(host, opts, env) {
  const key = threadKey(opts);
  const handle = { refresh() {}, destroy() {}, setTheme(v) { host.dataset.theme = v; } };
  const fallback = () => host.replaceChildren(h("a", {
    href: env.base + "/threads?" + new URLSearchParams({ site: opts.site, thread: key, lang: opts.lang || document.documentElement.lang }),
    text: "Read and write comments"
  }));
  if (!host.attachShadow) { fallback(); return handle; }
  if (opts.theme) host.dataset.theme = opts.theme;
  start(host, opts, env, key, handle).catch(fallback);
  return handle;
}

async function start(host, opts, env, key, handle) {
  const { api } = env;
  const state = threadState(["newest", "top"].includes(opts.sort) ? opts.sort : "oldest");
  // The strings and the first page load side by side.
  const first = loadPage(api, key, state).catch(() => null);
  const lang = await useLanguage(env.base, opts.lang || document.documentElement.lang);
  const root = host.shadowRoot || host.attachShadow({ mode: "open" });
  const heading = h("h2", { id: "ph", tabindex: "-1", text: t("loading") });
  const sort = h("select", { id: "f-sort", onchange: () => { state.sort = sort.value; state.etag = null; refresh(); } });
  const bar = h("div", { class: "bar" }, h("label", { for: "f-sort", text: t("sort") }), sort);
  const banner = h("p", { class: "fresh", role: "status", hidden: true });
  const list = h("ol", { class: "list" });
  const more = h("button", { type: "button", class: "more", hidden: true, text: t("more") });
  const home = h("div", { class: "home" });
  const box = h("section", { class: "p", dir: RTL.test(lang) ? "rtl" : document.documentElement.dir || "ltr",
    lang, "aria-labelledby": "ph" }, heading, bar, banner, list, more, home);
  try { const sheet = new CSSStyleSheet(); sheet.replaceSync(env.css); root.adoptedStyleSheets = [sheet]; root.replaceChildren(box); }
  catch (e) { root.replaceChildren(h("style", { text: env.css }), box); }
  const pendingKey = "p:" + api.site + ":" + key;
  let extra = null;

  const view = {
    api, key, lang, state, home, limits: env.limits, h, t, store, safeHTML,
    extra: () => (extra = extra || import(env.base + "/embed-extra.js")),
    held: () => (store.get(pendingKey) || []).filter((p) => live(p)).map((p) => p.c),
    heldUnder: (parentId) => view.held().filter((c) => c.parent_id === parentId && !state.byId.has(c.id)),
    myVote: (id) => store.get("v:" + id) || 0,
    focusComment: (id) => box.querySelector("#parley-" + id)?.focus(),
    ownTools(c, tools, body) {
      const own = live(store.get("t:" + c.id));
      // Held when posted and public now: a moderator approved it, which ends editing.
      if (own?.h && !c.pending) return store.set("t:" + c.id, null);
      if (!own) return;
      expires = Math.min(expires, own.x); // the tools go when the edit window ends
      const use = (name) => () => view.extra().then((m) => m[name](view, c, own, body, tools));
      tools.append(h("button", { type: "button", text: t("edit"), onclick: use("edit") }),
        h("button", { type: "button", text: t("del"), onclick: use("remove") }));
    },
    vote: (c, value) => view.extra().then((m) => m.vote(view, c, value)),
    voteButtons: (c) => voteButtons(view, c),
    replyTo: (c) => view.extra().then((m) => m.replyTo(view, form, c)),
    heading, box, pendingKey,
    render: () => render(),
    freshToken: () => freshToken(view, form),
    loadPage: (probe, next) => loadPage(api, key, probe, next)
  };
  const say = (text) => { form.status.textContent = text; };
  view.say = say;
  const form = commentForm(view);

  let expires = Infinity;
  let expiry = 0;
  function render() {
    heading.textContent = state.total ? t("many", state.total) : t("join");
    sort.replaceChildren(...["oldest", "newest", ...(state.votes ? ["top"] : [])].map((s) =>
      h("option", { value: s, selected: s === state.sort, text: t(s) })));
    // What the reader is in the middle of survives a redraw: an open edit box, the form
    // under a comment they reply to, and focus.
    const active = root.activeElement;
    const editing = [...list.querySelectorAll(".c textarea")].map((a) => a.closest("article"));
    expires = Infinity;
    const items = [...state.roots, ...view.heldUnder(null)].map((c) => renderComment(view, c));
    list.replaceChildren(...(items.length ? items : [h("li", { class: "none", text: t("none") })]));
    for (const old of editing) { const now = box.querySelector("#" + old.id); if (now) now.replaceWith(old); }
    const at = form.form.parent_id.value && box.querySelector("#parley-" + form.form.parent_id.value);
    if (at && at.nextSibling !== form.form) at.after(form.form);
    else if (!form.form.isConnected) home.prepend(form.form); // its comment left the page
    if (active && active.isConnected) active.focus();
    more.hidden = !state.cursor;
    clearTimeout(expiry);
    if (expires < Infinity) expiry = setTimeout(render, expires - Date.now());
  }

  async function refresh(loaded) {
    const res = await (loaded || loadPage(api, key, state).catch(() => null));
    if (res === "same") return;
    banner.hidden = true;
    // In the page's language, and not "Join the conversation" over comments it could not load.
    if (res !== "ok") { say(heading.textContent = t(res && res.status === 429 ? "eRate" : "eLoad")); return; }
    const visible = [...state.byId.keys()];
    store.set(pendingKey, (store.get(pendingKey) || []).filter((p) => !visible.includes(p.c.id)));
    render();
    if (state.closed) { form.form.remove(); home.replaceChildren(h("p", { text: t("closed") })); }
  }

  more.onclick = () => {
    if (more.disabled) return; // a second click while loading would append the page twice
    more.disabled = true;
    view.extra().then((m) => m.more(view, more));
  };

  home.append(form.form, h("button", { type: "button", class: "subl", text: t("sub"), "aria-expanded": "false",
    onclick: ({ currentTarget: link }) => view.extra().then((m) => m.subscribe(view, link)) }));
  await refresh(first);
  // A mail's "Read and reply" link (page#parley-ID): the browser cannot see into the
  // shadow root, so the widget brings that comment into view, from a later page if need be.
  const linked = /^#parley-(\d+)$/.exec(location.hash);
  if (linked) view.extra().then((m) => m.seek(view, linked[1]));
  if (!state.closed) view.freshToken();
  let stop = () => {};
  const showFresh = (n) => {
    banner.hidden = false;
    banner.replaceChildren(t("fresh", n), " · ", h("button", { type: "button", text: t("show"),
      onclick: async () => { state.etag = null; await refresh(); heading.focus(); } }));
  };
  // Live updates start with their first poll, 20 s in: that is when their code loads.
  const timer = opts.live === "off" ? 0 : setTimeout(async () => {
    stop = (await view.extra()).watch(view, { ...threadState(state.sort), etag: state.etag }, showFresh);
  }, 20e3);
  handle.refresh = () => { state.etag = null; return refresh(); };
  handle.destroy = () => { clearTimeout(timer); stop(); root.replaceChildren(); if (handle.onDestroy) handle.onDestroy(); };
}
