// DOM helpers: elements from data (textContent, never innerHTML for what readers typed).

/** h("a", {href, text}, ...children): an element; on* props become listeners. */
export function h(tag, props, ...kids) {
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

// The server sanitizes at write time; this allow-list walk is a second line of defence.
const ALLOWED = /^(P|BR|EM|STRONG|A|CODE|PRE|BLOCKQUOTE|UL|OL|LI)$/;

/** Comment HTML as a fragment of allowed elements only, links http(s)/mailto only. */
export function safeHTML(html) {
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
