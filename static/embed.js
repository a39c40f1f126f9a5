/* Parley comments widget: <div id="parley"></div><script src=".../embed.js" data-site="S" async></script>
   Plain JavaScript, no framework, no cookies; renders inside an open Shadow DOM root. */
(() => {
  "use strict";
  const script = document.currentScript || document.querySelector("script[src*='embed.js']");
  const base = new URL(script.src).origin;
  const site = script.dataset.site || "default";
  const CSS = "__PARLEY_CSS__"; // the server puts static/embed.css here
  const LIMITS = "__PARLEY_LIMITS__"; // and the server's field limits (widget/limits.py) here

  const EN = {
    join: "Join the conversation", one: "1 comment", many: "{n} comments",
    none: "No comments yet. Start the conversation.", loading: "Loading comments…",
    name: "Name", email: "Email", website: "Website (optional)", comment: "Comment",
    private: "Your email address will not be published.",
    notify: "Notify me of new comments in this thread", post: "Post comment",
    reply: "Reply", replyTo: "Reply to {n}", cancel: "Cancel", edit: "Edit", del: "Delete",
    sure: "Really delete", save: "Save", more: "Load more comments", edited: "edited",
    pending: "Awaiting moderation", posted: "Your comment is published.",
    held: "Thanks! Your comment is awaiting moderation.", fix: "Please correct the marked fields.",
    offline: "Could not reach the comment server. Your text is kept; try again.",
    sub: "Subscribe without commenting", subDo: "Subscribe", subOk: "Check your inbox to confirm.",
    closed: "Comments are closed.", deleted: "[deleted]", saved: "Saved."
  };
  let T = EN;
  const t = (k, n) => (T[k] || EN[k]).replace("{n}", n);

  const store = {
    get(k) { try { return JSON.parse(localStorage.getItem("parley:" + k)); } catch (e) { return null; } },
    set(k, v) { try { v == null ? localStorage.removeItem("parley:" + k) : localStorage.setItem("parley:" + k, JSON.stringify(v)); } catch (e) { /* private mode */ } }
  };

  function h(tag, props, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v == null || v === false) continue;
      if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else if (k === "text") el.textContent = v;
      else el.setAttribute(k, v === true ? "" : v);
    }
    el.append(...kids.filter((x) => x != null));
    return el;
  }

  async function api(method, path, body, token) {
    const headers = {};
    if (body) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = "Bearer " + token;
    const res = await fetch(base + "/api/" + path, {
      method, headers, body: body && JSON.stringify(body), credentials: "omit", cache: "no-cache"
    });
    let data = null;
    try { data = await res.json(); } catch (e) { /* 204 */ }
    return { status: res.status, data: data || {} };
  }

  const q = (params) => new URLSearchParams({ site, ...params });

  // The server sanitizes at write time; this allow-list walk is a second line of defence.
  const ALLOWED = /^(P|BR|EM|STRONG|A|CODE|PRE|BLOCKQUOTE|UL|OL|LI)$/;
  function safeHTML(html) {
    const tpl = document.createElement("template");
    tpl.innerHTML = html;
    const walk = (node) => {
      for (const el of [...node.children]) {
        walk(el);
        if (!ALLOWED.test(el.tagName)) { el.replaceWith(...el.childNodes); continue; }
        const href = el.getAttribute("href");
        for (const a of [...el.attributes]) el.removeAttribute(a.name);
        if (el.tagName === "A" && href && /^(https?:|mailto:)/i.test(href)) {
          el.href = href; el.rel = "nofollow ugc noopener";
        }
      }
    };
    walk(tpl.content);
    return tpl.content;
  }

  function when(iso, lang) {
    const date = new Date(iso);
    const secs = (date - Date.now()) / 1000;
    const units = [["year", 31536e3], ["month", 2592e3], ["day", 864e2], ["hour", 3600], ["minute", 60]];
    let text;
    try {
      const rtf = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });
      const [unit, size] = units.find(([, s]) => Math.abs(secs) >= s) || ["second", 1];
      text = rtf.format(Math.round(secs / size), unit);
    } catch (e) { text = date.toLocaleString(); }
    return h("time", { datetime: iso, title: date.toLocaleString(lang) , text });
  }

  function countText(n) { return n ? (n === 1 ? t("one") : t("many", n)) : t("join"); }

  async function loadLanguage(lang) {
    const code = (lang || "en").toLowerCase().split("-")[0];
    if (code !== "en") {
      try {
        const res = await fetch(base + "/i18n/" + code + ".json", { credentials: "omit" });
        if (res.ok) T = { ...EN, ...(await res.json()) };
      } catch (e) { /* English it is */ }
    }
    return code;
  }

  async function showCounts() {
    const els = [...document.querySelectorAll("[data-parley-count]")];
    const keys = [...new Set(els.map((el) => el.dataset.parleyCount))];
    if (!keys.length) return;
    const params = q({});
    keys.forEach((k) => params.append("thread", k));
    try {
      const { status, data } = await api("GET", "counts?" + params);
      if (status === 200) els.forEach((el) => { el.textContent = data[el.dataset.parleyCount] ?? 0; });
    } catch (e) { /* counts are decoration */ }
  }

  function threadKey(host) {
    const canonical = document.querySelector("link[rel=canonical]");
    if (host.dataset.thread) return host.dataset.thread;
    if (canonical && canonical.href) return new URL(canonical.href, location.href).pathname;
    return location.pathname;
  }

  async function mount(host) {
    const lang = await loadLanguage(host.dataset.lang || document.documentElement.lang);
    const key = threadKey(host);
    const dir = /^(ar|he|fa|ur)$/.test(lang) ? "rtl" : (document.documentElement.dir || "ltr");
    const root = host.shadowRoot || host.attachShadow({ mode: "open" });
    const heading = h("h2", { text: t("loading"), tabindex: "-1" });
    const list = h("ol", { class: "list" });
    const more = h("button", { type: "button", class: "more", hidden: true, text: t("more") });
    const status = h("p", { class: "st", role: "status", "aria-live": "polite" });
    const home = h("div", { class: "home" });
    const box = h("section", { class: "p", dir, lang, "aria-labelledby": "ph" }, heading, list, more, home, status);
    heading.id = "ph";
    try { const sheet = new CSSStyleSheet(); sheet.replaceSync(CSS); root.adoptedStyleSheets = [sheet]; root.replaceChildren(box); }
    catch (e) { root.replaceChildren(h("style", { text: CSS }), box); }
    const draftKey = "d:" + site + ":" + key;
    const pendingKey = "p:" + site + ":" + key;
    const lists = new Map([[null, list]]);
    let cursor = null;
    let total = 0;
    let formToken = null;

    const say = (text, urgent) => { status.setAttribute("role", urgent ? "alert" : "status"); status.textContent = text; };
    const refreshToken = async () => {
      try { formToken = (await api("GET", "form-token?" + q({}))).data.form_token || null; } catch (e) { formToken = null; }
    };
    const setTotal = (n) => { total = n; heading.textContent = countText(n); };

    function ownToken(id) {
      const own = store.get("t:" + id);
      return own && own.x > Date.now() ? own.t : null;
    }

    function renderComment(c, depth, pending) {
      const name = /^https?:\/\//i.test(c.website || "")
        ? h("a", { href: c.website, rel: "nofollow ugc noopener", class: "n", text: c.author })
        : h("span", { class: "n", text: c.author || t("deleted") });
      const body = h("div", { class: "c" });
      body.append(c.deleted ? t("deleted") : safeHTML(c.html));
      const tools = h("div", { class: "tools" });
      const article = h("article", { id: "parley-" + c.id, tabindex: "-1" },
        c.avatar ? h("img", { src: c.avatar, alt: "", width: 40, height: 40, loading: "lazy" }) : h("span", { class: "av" }),
        h("div", { class: "m" },
          h("div", { class: "h" }, name, when(c.created_at, lang),
            c.edited_at ? h("span", { class: "x", text: t("edited") }) : null,
            pending ? h("span", { class: "badge", text: t("pending") }) : null),
          body, tools));
      const replies = h("ol", { class: depth >= 3 ? "flat" : "" });
      const item = h("li", { class: pending ? "pend" : "" }, article, replies);
      lists.set(c.id, replies);
      if (!c.deleted && !pending && !closed) {
        tools.append(h("button", { type: "button", text: t("reply"), "aria-label": t("replyTo", c.author),
          onclick: () => openForm(c.id, replies, c.author) }));
      }
      const token = !c.deleted && ownToken(c.id);
      if (token) addOwnTools(c, tools, body, token, article);
      (c.replies || []).forEach((r) => replies.append(renderComment(r, depth + 1)));
      return item;
    }

    function addOwnTools(c, tools, body, token, article) {
      const edit = h("button", { type: "button", text: t("edit"), onclick: () => {
        const area = h("textarea", { "aria-label": t("comment"), rows: 4 });
        area.value = c.body || body.textContent;
        const save = h("button", { type: "button", class: "s", text: t("save"), onclick: async () => {
          try {
            const { status: s, data } = await api("PATCH", "comments/" + c.id, { body: area.value }, token);
            if (s !== 200) return say(data.message || t("fix"), true);
            c.body = area.value;
            body.replaceChildren(safeHTML(data.comment.html));
            say(t("saved"));
            article.focus();
          } catch (e) { say(t("offline"), true); }
        } });
        const cancel = h("button", { type: "button", text: t("cancel"), onclick: () => body.replaceChildren(safeHTML(c.html)) });
        body.replaceChildren(area, save, cancel);
        area.focus();
      } });
      const del = h("button", { type: "button", text: t("del"), onclick: async () => {
        if (del.dataset.armed !== "1") { del.dataset.armed = "1"; del.textContent = t("sure"); return; }
        try {
          const { status: s, data } = await api("DELETE", "comments/" + c.id, null, token);
          if (s !== 204) return say(data.message || t("fix"), true);
          store.set("t:" + c.id, null);
          forgetPending(c.id);
          body.replaceChildren(t("deleted"));
          tools.replaceChildren();
          heading.focus();
        } catch (e) { say(t("offline"), true); }
      } });
      tools.append(edit, del);
    }

    function pendingList() {
      return (store.get(pendingKey) || []).filter((p) => p.x > Date.now());
    }
    function forgetPending(id) { store.set(pendingKey, pendingList().filter((p) => p.c.id !== id)); }

    function showPending() {
      for (const p of pendingList()) {
        if (box.querySelector("#parley-" + p.c.id)) continue;
        const parent = lists.get(p.c.parent_id);
        if (parent) parent.append(renderComment(p.c, 0, true));
      }
    }

    let closed = false;
    async function loadPage() {
      const params = q({ thread: key });
      if (cursor) params.set("cursor", cursor);
      else { params.set("title", document.title.slice(0, 300)); params.set("url", location.href.split(/[?#]/)[0].slice(0, 2048)); }
      let res;
      try { res = await api("GET", "comments?" + params); } catch (e) { heading.textContent = t("join"); say(t("offline"), true); return; }
      if (res.status === 404) { setTotal(0); list.replaceChildren(h("li", { class: "x", text: t("none") })); return; }
      if (res.status !== 200) { heading.textContent = t("join"); say(res.data.message || t("offline"), true); return; }
      const { thread, comments, next_cursor: next } = res.data;
      closed = thread.closed;
      if (!cursor) list.replaceChildren();
      setTotal(thread.count);
      comments.forEach((c) => list.append(renderComment(c, 0)));
      cursor = next;
      more.hidden = !next;
      const visible = new Set(comments.map((c) => c.id));
      store.set(pendingKey, pendingList().filter((p) => !visible.has(p.c.id)));
      if (!comments.length && !cursor) list.replaceChildren(h("li", { class: "x", text: t("none") }));
    }
    more.addEventListener("click", async () => {
      more.disabled = true; // a second click while loading would append the page twice
      await loadPage();
      more.disabled = false;
      showPending();
    });

    // --- the form -----------------------------------------------------------
    const field = (name, label, input, note) => {
      input.id = "f-" + name;
      input.name = name;
      const err = h("span", { class: "err", id: "e-" + name });
      input.setAttribute("aria-describedby", (note ? "n-" + name + " " : "") + "e-" + name);
      return h("div", { class: "f" }, h("label", { for: input.id, text: label }), input,
        note ? h("small", { id: "n-" + name, text: note }) : null, err);
    };
    const me = store.get("me") || {};
    const inputs = {
      author: h("input", { autocomplete: "name", required: true, maxlength: LIMITS.author }),
      email: h("input", { type: "email", autocomplete: "email", required: true, maxlength: LIMITS.email }),
      website: h("input", { type: "url", autocomplete: "url", maxlength: LIMITS.website }),
      body: h("textarea", { rows: 5, required: true, maxlength: LIMITS.body })
    };
    ["author", "email", "website"].forEach((k) => { inputs[k].value = me[k] || ""; });
    inputs.body.value = (store.get(draftKey) || {}).body || "";
    const notify = h("input", { type: "checkbox", name: "notify", id: "f-notify" });
    const parentInput = h("input", { type: "hidden", name: "parent_id" });
    const honeypot = h("input", { name: "contact_fax", tabindex: "-1", autocomplete: "off" });
    const cancel = h("button", { type: "button", hidden: true, text: t("cancel"), onclick: () => closeReply() });
    const submit = h("button", { type: "submit", class: "s", text: t("post") });
    const form = h("form", { novalidate: true, "aria-label": t("join") },
      field("author", t("name"), inputs.author),
      field("email", t("email"), inputs.email, t("private")),
      field("website", t("website"), inputs.website),
      field("body", t("comment"), inputs.body),
      h("div", { class: "ck" }, notify, h("label", { for: "f-notify", text: t("notify") })),
      h("div", { class: "hp", "aria-hidden": "true" }, honeypot), parentInput,
      h("div", { class: "row" }, submit, cancel));
    inputs.body.addEventListener("input", () => store.set(draftKey, { body: inputs.body.value }));
    home.append(form);

    function openForm(parentId, replies, author) {
      parentInput.value = parentId;
      cancel.hidden = false;
      form.setAttribute("aria-label", t("replyTo", author));
      replies.before(form);
      inputs.body.focus();
    }
    function closeReply() {
      parentInput.value = "";
      cancel.hidden = true;
      form.setAttribute("aria-label", t("join"));
      home.prepend(form);
    }

    function showErrors(errors) {
      let first = null;
      for (const name of Object.keys(inputs)) {
        const msgs = errors[name];
        box.querySelector("#e-" + name).textContent = msgs ? msgs.join(" ") : "";
        inputs[name].toggleAttribute("aria-invalid", !!msgs);
        if (msgs && !first) first = inputs[name];
      }
      const other = Object.entries(errors).filter(([k]) => !(k in inputs)).map(([, m]) => m.join(" "));
      if (other.length) say(other.join(" "), true);
      return first;
    }

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const payload = {
        site, thread: key, title: document.title.slice(0, 300), url: location.href.split("#")[0].slice(0, 2048),
        author: inputs.author.value.trim(), email: inputs.email.value.trim(),
        website: inputs.website.value.trim(), body: inputs.body.value,
        notify: notify.checked, parent_id: parentInput.value ? +parentInput.value : null,
        form_token: formToken, contact_fax: honeypot.value, author_token: (store.get("a:" + site) || []).join(" ")
      };
      submit.disabled = true;
      let res;
      try { res = await api("POST", "comments", payload); } catch (e) { submit.disabled = false; return say(t("offline"), true); }
      submit.disabled = false;
      refreshToken();
      if (res.status !== 201) {
        const first = showErrors(res.data.errors || {});
        say(res.data.errors ? t("fix") : res.data.message || t("offline"), true);
        return first && first.focus();
      }
      showErrors({});
      store.set("me", { author: payload.author, email: payload.email, website: payload.website });
      store.set(draftKey, null);
      const { comment, status: state, edit_token: token, author_token: proof } = res.data;
      // Proof of this browser's comments (the server trusts one once it is approved).
      if (proof) store.set("a:" + site, [proof, ...(store.get("a:" + site) || [])].slice(0, 5));
      store.set("t:" + comment.id, { t: token, x: Date.now() + (res.data.edit_window || 900) * 1000 });
      comment.body = payload.body;
      const pending = state !== "approved";
      if (pending) store.set(pendingKey, [...pendingList(), { c: comment, x: Date.now() + 7 * 864e5 }]);
      else setTotal(total + 1);
      if (list.querySelector(".x")) list.replaceChildren();
      inputs.body.value = "";
      notify.checked = false;
      const target = lists.get(payload.parent_id) || list;
      closeReply();
      target.append(renderComment(comment, 0, pending));
      say(pending ? t("held") : t("posted"));
      box.querySelector("#parley-" + comment.id).focus();
    });

    // --- subscribe without commenting --------------------------------------------
    const subEmail = h("input", { type: "email", autocomplete: "email", required: true, id: "f-sub", name: "email" });
    const subForm = h("form", { hidden: true, class: "sub", novalidate: true },
      h("label", { for: "f-sub", text: t("email") }), subEmail,
      h("button", { type: "submit", class: "s", text: t("subDo") }));
    const subLink = h("button", { type: "button", "aria-expanded": "false", text: t("sub"), onclick: () => {
      subForm.hidden = !subForm.hidden;
      subLink.setAttribute("aria-expanded", String(!subForm.hidden));
      if (!subForm.hidden) { subEmail.value = subEmail.value || inputs.email.value; subEmail.focus(); }
    } });
    subForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const { status: s, data } = await api("POST", "subscriptions", { site, thread: key, email: subEmail.value.trim(), title: document.title.slice(0, 300) });
        say(s === 202 ? t("subOk") : ((data.errors && data.errors.email) || [data.message]).join(" "), s !== 202);
        if (s === 202) subForm.hidden = true;
      } catch (e) { say(t("offline"), true); }
    });
    home.append(subLink, subForm);

    await loadPage();
    showPending();
    if (closed) { form.remove(); subLink.remove(); home.append(h("p", { text: t("closed") })); }
    else refreshToken();
  }

  const host = document.getElementById("parley");
  if (host) mount(host);
  showCounts();
})();
