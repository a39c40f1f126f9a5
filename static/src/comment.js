// One comment as readers see it, rendered from the thread's data.
import { h, safeHTML } from "./dom.js";
import { t } from "./i18n.js";
import { when } from "./time.js";

/** The <li> of comment `c` and its replies; `view` holds the thread state and actions.
 * `c` is the thread's own object (not a copy): what an edit, a delete or a vote changes
 * in it stays after the next redraw. */
export function renderComment(view, c, depth = 0) {
  const name = /^https?:\/\//i.test(c.website || "")
    ? h("a", { href: c.website, rel: "nofollow ugc noopener", class: "n", dir: "auto", text: c.author })
    : h("span", { class: "n", dir: "auto", text: c.author });
  const body = h("div", { class: "c", dir: "auto" }, c.deleted ? t("deleted") : safeHTML(c.html));
  const tools = h("div", { class: "tools" });
  const badge = c.pending ? "pending" : c.role; // "owner" or "moderator": a reply by the site
  const article = h("article", { id: "parley-" + c.id, tabindex: "-1" },
    c.avatar ? h("img", { src: c.avatar, alt: "", loading: "lazy" }) : h("span", { class: "av" }),
    h("div", { class: "m" },
      h("div", { class: "h" }, name, when(c.created_at, view.lang),
        c.edited_at && h("span", { class: "ed", text: t("edited") }),
        badge && h("span", { class: "badge", text: t(badge) })),
      body, tools));
  const replies = h("ol", { class: depth >= 3 ? "flat" : "" });
  if (!c.deleted && !c.pending) {
    if (view.state.votes) tools.append(voteButtons(view, c));
    if (!view.state.closed) {
      tools.append(h("button", { type: "button", text: t("reply"), "aria-label": t("replyTo", c.author),
        onclick: () => view.replyTo(c) }));
    }
  }
  if (!c.deleted) view.ownTools(c, tools, body);
  for (const r of c.replies || []) replies.append(renderComment(view, r, depth + 1));
  for (const p of view.heldUnder(c.id)) replies.append(renderComment(view, p));
  return h("li", { class: c.pending ? "pend" : "" }, article, replies);
}

/** ▲ score ▼, each button named for the comment it votes on ("Vote up, Ann"). */
export function voteButtons(view, c) {
  const mine = view.myVote(c.id);
  const button = (value, label, sign) => h("button", {
    type: "button", class: "v", text: sign, "aria-label": label + ", " + c.author, "aria-pressed": String(mine === value),
    onclick: () => view.vote(c, mine === value ? 0 : value)
  });
  return h("span", { class: "vote" }, button(1, t("up"), "▲"), h("span", { class: "sc", text: c.score || 0 }), button(-1, t("down"), "▼"));
}
