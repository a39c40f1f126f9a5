// Loaded on first use from /embed-extra.js: sending the comment form, editing and deleting
// one's own comment, the Markdown preview, subscribing without commenting, and live
// updates. Everything it needs comes in with `view` (the same strings, store and API as the
// main bundle), so nothing is bundled twice.

const FIELDS = ["author", "email", "website", "body"];
// (Rules the first load can do without: they style only what this chunk shows or sets.)
const CSS = ".pv{border:1px dashed var(--m);border-radius:6px;padding:.5em;min-height:6em}"
  + ".sub{display:flex;flex-wrap:wrap;gap:.5em;align-items:end}.sub input{flex:1 1 12em;width:auto}"
  + ".err{color:var(--e);font-size:.9em}[aria-invalid]{border-color:var(--e);border-width:2px}"
  + "button:disabled{opacity:.6}.fresh{background:var(--l);padding:.4em .7em;border-radius:6px}";
let sheet = null;

/** The rules of what this chunk shows, added to the thread's shadow root once. */
function styled(view) {
  const root = view.box.getRootNode();
  try {
    if (!sheet) { sheet = new CSSStyleSheet(); sheet.replaceSync(CSS); }
    if (!root.adoptedStyleSheets.includes(sheet)) root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
  } catch (e) { view.box.append(view.h("style", { text: CSS })); }
}
const MIN_FORM_AGE = 3200; // the server holds a post sent sooner after the form appeared
const FIELD_ERRORS = { author: "eAuthor", email: "eEmail", website: "eWebsite", body: "eBody", form_token: "eToken" };

const CODES = { rate_limited: "eRate", not_found: "eGone", forbidden: "eDenied", conflict: "closed", csrf_failed: "eToken",
  unavailable: "offline" };

/** A server error without a field, in the reader's language by its stable code. */
function errorText(view, data) {
  return CODES[data.error] ? view.t(CODES[data.error]) : data.message || view.t("offline");
}

/** Send the comment form; on success the view shows the comment and focuses it. */
export async function send(view, parts, retried) {
  styled(view);
  const { t, store, api } = view;
  const { form, inputs, status } = parts;
  if (inputs.body.hidden) preview(view, parts); // back to Write: errors point at the box
  const submit = form.querySelector("[type=submit]");
  if (submit.disabled) return;
  submit.disabled = true;
  status.textContent = t("posting");
  // No token (its fetch failed, offline): fetch one now, or the comment would be held.
  if (!parts.token) await view.freshToken();
  // Waiting out the form's minimum age here keeps a quick reader from being held silently.
  const wait = parts.tokenAt + MIN_FORM_AGE - Date.now();
  if (parts.token && wait > 0) await new Promise((done) => setTimeout(done, wait));
  const payload = {
    site: api.site, thread: view.key, title: document.title.slice(0, 300), url: location.href.split("#")[0],
    author: inputs.author.value.trim(), email: inputs.email.value.trim(), website: inputs.website.value.trim(),
    body: inputs.body.value, notify: form.notify.checked && (form.mode ? form.mode.value : "replies"),
    parent_id: +form.parent_id.value || null,
    form_token: parts.token, contact_fax: form.contact_fax.value, author_token: (store.get("a:" + api.site) || []).join(" ")
  };
  const res = await api.request("POST", "comments", payload).catch(() => ({ status: 0, data: {} }));
  submit.disabled = false;
  const tokenRefused = res.status === 422 && res.data.errors && res.data.errors.form_token;
  if (tokenRefused && !retried) {
    // Too soon (the server says how long to wait) or too old: send again, once, by itself.
    await new Promise((done) => setTimeout(done, (res.data.retry_after || 0) * 1e3));
    if (!res.data.retry_after) await view.freshToken();
    return send(view, parts, true);
  }
  // A failed send spent nothing (its transaction rolled back): the token stays, and a
  // corrected form goes at once instead of waiting out a new token's minimum age.
  if (res.status !== 201) return failed(view, parts, res);
  view.freshToken();
  showErrors(view, parts, {});
  const keep = form.remember.checked;
  store.set("me", keep ? { author: payload.author, email: payload.email, website: payload.website } : null);
  store.set(parts.draftKey, null);
  inputs.body.value = "";
  form.notify.checked = false;
  modes(view, parts);
  closeReply(view, parts);
  const pending = res.data.status !== "approved";
  const minutes = Math.max(1, Math.round((res.data.edit_window || 900) / 60));
  status.textContent = (pending ? t("held") : t("posted")) + " " + t("editFor", minutes);
  posted(view, res.data, payload, pending);
}

/** Show the reader's new comment where it belongs (held ones only to them) and focus it. */
function posted(view, data, payload, pending) {
  const { store, state, api } = view;
  const c = { ...data.comment, pending, body: payload.body };
  store.set("t:" + c.id, { t: data.edit_token, b: payload.body, x: Date.now() + (data.edit_window || 900) * 1e3, h: pending });
  if (data.author_token) store.set("a:" + api.site, [data.author_token, ...(store.get("a:" + api.site) || [])].slice(0, 5));
  if (pending) store.set(view.pendingKey, [...(store.get(view.pendingKey) || []), { c, x: Date.now() + 6048e5 }]);
  else place(state, c);
  view.render();
  view.focusComment(c.id);
}

/** Put a published comment among those shown, where the reader expects it. */
function place(state, c) {
  const parent = state.byId.get(c.parent_id);
  // Replies are oldest first; top-level comments as sorted ("newest": the new one first).
  if (!parent && state.sort === "newest") state.roots.unshift(c);
  else (parent ? (parent.replies = parent.replies || []) : state.roots).push(c);
  state.byId.set(c.id, c);
  state.total += 1;
}

/** What mail to get: replies to my comment (the default when posting), every comment, or
 * a daily digest. `chosen` is the mode selected at first. */
function modeChoice(view, chosen) {
  const { h, t } = view;
  return h("select", { name: "mode", "aria-label": t("mode") },
    ...[["replies", "mReplies"], ["all", "mAll"], ["digest", "mDigest"]].map(([value, key]) =>
      h("option", { value, selected: value === chosen, text: t(key) })));
}

/** The choice appears beside "Notify me" while it is ticked. */
export function modes(view, parts) {
  const { form } = parts;
  if (form.notify.checked && !form.mode) form.notify.parentNode.append(modeChoice(view, "replies"));
  if (!form.notify.checked && form.mode) form.mode.remove();
}

/** Move the form under the comment it answers, with "Replying to NAME · Cancel" above it. */
export function replyTo(view, parts, c) {
  const { h, t } = view;
  const { form } = parts;
  form.parent_id.value = c.id;
  view.closeReply = () => closeReply(view, parts); // when the comment answered goes away
  parts.replying.hidden = false;
  parts.replying.replaceChildren(t("replying", c.author), " · ",
    h("button", { type: "button", text: t("cancel"), onclick: () => { closeReply(view, parts); view.focusComment(c.id); } }));
  form.setAttribute("aria-label", t("replyTo", c.author));
  form.onkeydown = (e) => {
    if (e.key === "Escape" && form.parent_id.value) { closeReply(view, parts); view.focusComment(c.id); }
  };
  view.box.querySelector("#parley-" + c.id).after(form);
  parts.inputs.body.focus();
}

function closeReply(view, parts) {
  parts.form.parent_id.value = "";
  parts.replying.hidden = true;
  parts.form.setAttribute("aria-label", view.t("join"));
  view.home.prepend(parts.form);
}

/** The next page of top-level comments; focus goes to the first of them. */
export async function more(view, button) {
  styled(view);
  const { state } = view;
  const before = state.roots.length;
  const res = await view.loadPage(state, true).catch(() => null);
  button.disabled = false;
  if (res !== "ok") return view.say(res ? errorText(view, res.data) : view.t("offline"));
  const first = state.roots[before];
  // A comment the reader posted meanwhile was shown after what was loaded; now that the
  // page it belongs on came, it stays there only.
  state.roots = state.roots.filter((c, i, all) => !all.slice(i + 1).some((o) => o.id === c.id));
  view.render();
  if (first) view.focusComment(first.id);
  else view.heading.focus();
}

/** Bring comment `id` into view: a mail links to it, and on a long thread it may be a few
 * pages on (twenty at most, as many as a reader would page through). */
export async function seek(view, id) {
  for (let n = 0; n < 20 && !view.box.querySelector("#parley-" + id) && view.state.cursor; n++) {
    if (await view.loadPage(view.state, true).catch(() => null) !== "ok") break;
    view.render();
  }
  view.focusComment(id);
}

function failed(view, parts, res) {
  const errors = res.data.errors || {};
  const first = showErrors(view, parts, errors);
  const other = Object.keys(errors).filter((k) => !FIELDS.includes(k));
  // An error no field shows is said as it is, never hidden behind "correct the fields".
  parts.status.textContent = other.length ? other.map((k) => fieldError(view, k, errors[k])).join(" ")
    : first ? view.t("fix") : res.status ? errorText(view, res.data) : view.t("offline");
  (first || parts.form.querySelector("[type=submit]")).focus();
}

function fieldError(view, name, messages) {
  return FIELD_ERRORS[name] ? view.t(FIELD_ERRORS[name]) : messages.join(" ");
}

function showErrors(view, parts, errors) {
  let first = null;
  for (const name of FIELDS) {
    const msgs = errors[name];
    const input = parts.inputs[name];
    const shown = parts.form.querySelector("#e-" + name);
    const clear = () => { shown.textContent = ""; input.removeAttribute("aria-invalid"); };
    clear();
    if (msgs) {
      shown.textContent = fieldError(view, name, msgs);
      input.setAttribute("aria-invalid", "true");
      input.addEventListener("input", clear, { once: true }); // being corrected: no longer wrong
    }
    first = first || (msgs && input);
  }
  return first;
}

/**
 * Poll the first page with its ETag while the page is visible (a 304 costs nothing), every
 * 20 s, backing off to 5 min while nothing changes; `onNew(count)` gets the number of
 * comments the reader has not seen. Returns a function that stops it.
 */
export function watch(view, probe, onNew) {
  styled(view);
  let delay = 20e3;
  let timer = 0;
  async function tick() {
    if (document.hidden) return;
    const held = view.held().map((c) => c.id);
    // While the reader waits for a held comment, look where it will be once approved: the
    // newest first (oldest first, a long thread has it on its last page).
    const sort = held.length ? "newest" : view.state.sort;
    if (sort !== probe.sort) probe.etag = null; // another order, another page: its own validator
    probe.sort = sort;
    const same = sort === view.state.sort;
    probe.etag = probe.etag || (same ? view.state.etag : null);
    const res = await view.loadPage(probe).catch(() => null);
    if (res === "ok") {
      // New ids on the first page (in the reader's own order), or (oldest first: new ones
      // are on the last page) a count that grew.
      const fresh = [...probe.byId.keys()].filter((id) => !view.state.byId.has(id));
      const mine = fresh.filter((id) => held.includes(id));
      if (mine.length) {
        // The reader's own held comments, approved meanwhile: shown as published in place,
        // the pages they loaded kept (nothing new to them: they count in no banner).
        for (const id of mine) place(view.state, { ...probe.byId.get(id), replies: [] });
        const { store, pendingKey } = view;
        store.set(pendingKey, (store.get(pendingKey) || []).filter((p) => !mine.includes(p.c.id)));
        view.render();
      }
      const unseen = Math.max(probe.total - view.state.total, same ? fresh.length - mine.length : 0);
      if (unseen) onNew(unseen);
      delay = 20e3;
    } else delay = Math.min(delay * 2, 300e3);
    schedule();
  }
  const schedule = () => { clearTimeout(timer); timer = setTimeout(tick, delay); };
  const wake = () => { if (!document.hidden) { delay = 20e3; schedule(); } };
  document.addEventListener("visibilitychange", wake);
  tick();
  return () => { clearTimeout(timer); document.removeEventListener("visibilitychange", wake); };
}

/** Edit in place; the box holds the Markdown as written (kept with the edit token). */
export function edit(view, c, own, body, tools) {
  styled(view);
  const { h, t } = view;
  const area = h("textarea", { "aria-label": t("comment"), rows: 4, maxlength: view.limits.body });
  area.value = own.b || c.body || body.textContent;
  const minutes = Math.max(1, Math.round((own.x - Date.now()) / 6e4));
  const note = h("p", { class: "st", role: "status", text: t("editFor", minutes) });
  const editButton = tools.querySelector("button:nth-last-child(2)");
  const close = () => { area.remove(); view.render(); view.focusComment(c.id); };
  const save = h("button", { type: "button", class: "s", text: t("save"), onclick: async () => {
    const res = await view.api.request("PATCH", "comments/" + c.id, { body: area.value }, own.t).catch(() => null);
    if (!res || res.status !== 200) {
      if (res && res.status === 403) view.store.set("t:" + c.id, null); // reviewed or too late: no tools after this
      note.textContent = res ? errorText(view, res.data) : t("offline");
      return area.focus();
    }
    const { replies, ...changed } = res.data.comment; // the answer has none: keep those shown
    Object.assign(c, changed, { body: area.value });
    view.store.set("t:" + c.id, { ...own, b: area.value });
    if (res.data.status !== "approved") c.pending = true;
    // A held comment is drawn from this browser's copy: keep the edit there too.
    const held = (view.store.get(view.pendingKey) || []).map((p) => (p.c.id === c.id ? { ...p, c } : p));
    view.store.set(view.pendingKey, held);
    close();
  } });
  body.replaceChildren(area, h("div", { class: "row" }, save, h("button", { type: "button", text: t("cancel"), onclick: close })), note);
  if (editButton) editButton.disabled = true;
  area.focus();
}

/** Delete: a second press confirms; Escape or leaving the button disarms it. */
export function remove(view, c, own, body, tools) {
  styled(view);
  const { t } = view;
  const button = tools.lastElementChild;
  if (button.dataset.armed !== "1") {
    button.dataset.armed = "1";
    button.textContent = t("sure");
    const disarm = () => { button.dataset.armed = ""; button.textContent = t("del"); };
    button.addEventListener("blur", disarm, { once: true });
    button.addEventListener("keydown", (e) => { if (e.key === "Escape") disarm(); });
    return;
  }
  view.api.request("DELETE", "comments/" + c.id, null, own.t).then((res) => {
    if (res.status === 204) return removed(view, c);
    if (res.status === 403) view.store.set("t:" + c.id, null);
    body.append(view.h("p", { class: "err", text: errorText(view, res.data) }));
  }, () => body.append(view.h("p", { class: "err", text: t("offline") })));
}

/** Preview/Write: the text as it will look, through the server's own renderer. */
export async function preview(view, parts) {
  const { h, t } = view;
  styled(view);
  const area = parts.inputs.body;
  const button = parts.preview;
  const shown = area.previousElementSibling && area.previousElementSibling.classList.contains("pv")
    ? area.previousElementSibling : null;
  if (shown) { shown.remove(); area.hidden = false; button.textContent = t("preview"); button.setAttribute("aria-pressed", "false"); return area.focus(); }
  const res = await view.api.request("POST", "preview", { site: view.api.site, body: area.value }).catch(() => null);
  const pane = h("div", { class: "c pv", dir: "auto", tabindex: "-1" });
  pane.append(!res ? t("offline") : res.status === 200 ? view.safeHTML(res.data.html)
    : res.data.errors ? t("eBody") : errorText(view, res.data));
  area.before(pane);
  area.hidden = true;
  button.textContent = t("write");
  button.setAttribute("aria-pressed", "true");
  pane.focus();
}

/** Follow the thread by mail without commenting (double opt-in). */
export function subscribe(view, link) {
  const { h, t } = view;
  styled(view);
  if (link.nextElementSibling && link.nextElementSibling.tagName === "FORM") {
    link.nextElementSibling.remove();
    link.setAttribute("aria-expanded", "false");
    return link.focus();
  }
  const email = h("input", { type: "email", autocomplete: "email", required: true, id: "f-sub", name: "email" });
  email.value = (view.store.get("me") || {}).email || "";
  const status = h("p", { class: "st", role: "status" });
  const choice = modeChoice(view, "all"); // subscribing without commenting: every comment
  const form = h("form", { class: "sub", novalidate: true },
    h("label", { for: "f-sub", text: t("email") }), email, choice,
    h("button", { type: "submit", class: "s", text: t("subDo") }), status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const res = await view.api.request("POST", "subscriptions", { site: view.api.site, thread: view.key, email: email.value.trim(), notify: choice.value }).catch(() => null);
    if (res && res.status === 202) {
      form.replaceWith(status);
      status.textContent = t("subOk");
      link.setAttribute("aria-expanded", "false");
      return link.focus(); // the control that replaced the form that vanished
    }
    status.textContent = !res ? t("offline") : res.data.errors ? t("eEmail") : errorText(view, res.data);
    email.setAttribute("aria-invalid", "true");
    email.focus();
  });
  link.after(form);
  link.setAttribute("aria-expanded", "true");
  email.focus();
}

/** A reader's vote (+1, -1, or 0 to take it back) with this browser's random voter key. */
export async function vote(view, c, value) {
  const { store } = view;
  let voter = store.get("voter");
  if (!voter) store.set("voter", (voter = crypto.randomUUID()));
  const res = await view.api.request("POST", "comments/" + c.id + "/vote", { value, voter }).catch(() => null);
  if (!res || res.status !== 200) return view.say(res ? errorText(view, res.data) : view.t("offline"));
  store.set("v:" + c.id, value || null);
  c.score = res.data.score;
  // In place: a redraw would take the reader's place (a reply being written, focus).
  const buttons = view.voteButtons(c);
  view.box.querySelector(`#parley-${c.id} .vote`).replaceWith(buttons);
  buttons.children[value < 0 ? 2 : 0].focus();
  view.say(view.t("votes", c.score));
}

/** After a delete: the count and the name go at once, and focus lands on the heading. */
function removed(view, c) {
  c.deleted = true;
  c.author = c.website = "";
  c.edited_at = c.avatar = null; // as the thread's answer shows a deleted comment
  if (!c.pending) view.state.total -= 1;
  const { store, pendingKey } = view; // this browser's copy of a held one goes too
  store.set(pendingKey, (store.get(pendingKey) || []).filter((p) => p.c.id !== c.id));
  store.set("t:" + c.id, null);
  // A reply being written to it has nothing left to answer: the form becomes a new comment.
  if (+view.box.querySelector("[name=parent_id]").value === c.id) view.closeReply();
  // With no replies it goes from the page, as the thread's answer leaves it out (and so
  // may a deleted comment above it that answered nothing else).
  const { state } = view;
  for (let gone = c; gone && gone.deleted && !(gone.replies || []).length; gone = state.byId.get(gone.parent_id)) {
    const siblings = (state.byId.get(gone.parent_id) || {}).replies || state.roots;
    if (siblings.includes(gone)) siblings.splice(siblings.indexOf(gone), 1);
    state.byId.delete(gone.id);
  }
  view.render();
  view.say(view.t("removed"));
  view.heading.focus();
}

/** Fill each data-parley-recent="N" element with the site's N newest comments: who, where,
 * a line of what they said, linked to the comment (plain list items the site can style). */
export async function recent(api, elements) {
  for (const el of elements) {
    const res = await api.request("GET", "recent?" + api.query({ limit: +el.dataset.parleyRecent || 5 })).catch(() => null);
    if (!res || res.status !== 200) continue;
    const list = document.createElement("ul");
    list.className = "parley-recent";
    for (const c of res.data.comments) {
      const page = c.thread.url || api.base + "/threads?" + new URLSearchParams({ site: api.site, thread: c.thread.key });
      const link = document.createElement("a");
      link.href = page + "#parley-" + c.id;
      link.textContent = c.author + " · " + (c.thread.title || c.thread.key);
      const words = document.createElement("template");
      words.innerHTML = c.html; // parsed inert, only its text is used
      const item = document.createElement("li");
      item.append(link, " ", words.content.textContent.trim().slice(0, 140));
      item.dir = "auto";
      list.append(item);
    }
    el.replaceChildren(list);
  }
}
