// The comment form: a real <form> with the API's field names, a reply-to line and its own
// status region. Sending it (payload, errors, success) loads with the second chunk, on the
// first focus into the form.
import { h } from "./dom.js";
import { t } from "./i18n.js";
import { store } from "./store.js";

export function commentForm(view) {
  const { limits } = view;
  const me = store.get("me") || {};
  const draftKey = "d:" + view.api.site + ":" + view.key;
  const input = (name, props) => h(name === "body" ? "textarea" : "input", { id: "f-" + name, name, ...props });
  const inputs = {
    author: input("author", { autocomplete: "name", required: true, maxlength: limits.author }),
    email: input("email", { type: "email", autocomplete: "email", required: true, maxlength: limits.email }),
    website: input("website", { type: "url", autocomplete: "url", maxlength: limits.website }),
    body: input("body", { rows: 5, required: true, maxlength: limits.body })
  };
  for (const k of ["author", "email", "website"]) inputs[k].value = me[k] || "";
  inputs.body.value = (store.get(draftKey) || {}).body || "";
  const check = (name, label, checked, onchange) => h("div", { class: "ck" },
    h("input", { type: "checkbox", name, id: "f-" + name, checked, onchange }), h("label", { for: "f-" + name, text: label }));
  const replying = h("p", { class: "to", hidden: true });
  const status = h("p", { class: "st", role: "status" });
  const field = (name, label, note) => {
    const el = inputs[name];
    el.setAttribute("aria-describedby", (note ? "n-" + name + " " : "") + "e-" + name);
    return h("div", { class: "f" }, h("label", { for: el.id, text: label }), el,
      note ? h("small", { id: "n-" + name, text: note }) : null, h("span", { class: "err", id: "e-" + name }));
  };
  const use = (name) => (event) => {
    if (event.type === "submit") event.preventDefault(); // now: the chunk may still be on its way
    view.extra().then((m) => m[name](view, parts));
  };
  const preview = h("button", { type: "button", "aria-pressed": "false", text: t("preview"), onclick: use("preview") });
  const form = h("form", { novalidate: true, "aria-label": t("join"), onsubmit: use("send") }, replying,
    field("author", t("name")), field("email", t("email"), t("private")), field("website", t("website")),
    field("body", t("comment"), t("md")), check("notify", t("notify"), false, use("modes")), check("remember", t("remember"), !!me.email),
    h("div", { class: "hp", "aria-hidden": "true" }, h("input", { name: "contact_fax", tabindex: "-1", autocomplete: "off" })),
    h("input", { type: "hidden", name: "parent_id" }),
    h("div", { class: "row" }, h("button", { type: "submit", class: "s", text: t("post") }), preview), status);
  form.addEventListener("focusin", () => view.extra(), { once: true });
  inputs.body.addEventListener("input", () => store.set(draftKey, { body: inputs.body.value }));

  const parts = { form, inputs, status, preview, replying, draftKey, token: null, tokenAt: 0 };
  return parts;
}

/** A fresh form token (the server's signed timestamp) whenever the form is shown anew. */
export async function freshToken(view, parts) {
  try { parts.token = (await view.api.request("GET", "form-token?" + view.api.query({}))).data.form_token || null; }
  catch (e) { parts.token = null; }
  parts.tokenAt = Date.now();
}
