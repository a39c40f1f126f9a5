"""Markdown to safe HTML, once, at write time."""

from __future__ import annotations

import html as html_lib
import re

import nh3
from markdown_it import MarkdownIt

#: A small Markdown: paragraphs, emphasis, links, code, quotes, lists. No raw
#: HTML, no images, no headings or tables.
_markdown = (
    MarkdownIt("zero", {"html": False, "linkify": False, "breaks": True})
    .enable(["emphasis", "link", "backticks", "fence", "code", "blockquote", "list", "newline"])
    .enable(["escape", "entity", "autolink"])
)

ALLOWED_TAGS = {"p", "br", "em", "strong", "a", "code", "pre", "blockquote", "ul", "ol", "li"}
LINK_REL = "nofollow ugc noopener"
_URL = re.compile(r"(?<![\w(<\[])(https?://[^\s<>\"'\])]+)")


def markdown_to_html(text: str) -> str:
    """Render a comment body and sanitize it with an allow-list."""
    html = _markdown.render(_bare_links_to_autolinks(text))
    return sanitize(html)


#: Built once: handing nh3 the allow-lists on every call costs more than the cleaning.
_cleaner = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    attributes={"a": {"href"}},
    url_schemes={"http", "https", "mailto"},
    link_rel=LINK_REL,
    strip_comments=True,
)


#: What the cleaner leaves of a link whose address it refused (javascript:, data:…): no
#: address, so no link. (Anchors never nest in parsed HTML: the next </a> closes it.)
_LINK_WITHOUT_ADDRESS = re.compile(r"<a\b(?![^>]*\shref=)[^>]*>(.*?)</a>", re.S)


#: Old comment systems' bold and italic (WordPress, Disqus): <b> and <i> mean what
#: <strong> and <em> do, which the allow-list keeps.
_OLD_EMPHASIS = re.compile(r"<(/?)(b|i)(?=[\s>/])", re.IGNORECASE)
_NEW_EMPHASIS = {"b": "strong", "i": "em"}


def sanitize(html: str) -> str:
    """Allow-list sanitizer used for new and imported comments alike."""
    html = _OLD_EMPHASIS.sub(lambda m: f"<{m[1]}{_NEW_EMPHASIS[m[2].lower()]}", html)
    return _LINK_WITHOUT_ADDRESS.sub(r"\1", _cleaner.clean(html)).strip()


def plain_text(html: str) -> str:
    """Text of sanitized HTML, for mail bodies and feeds."""
    text = re.sub(r"<br\s*/?>|</p>|</li>|</blockquote>", "\n", html)
    text = nh3.clean(text, tags=set())
    return re.sub(r"\n{3,}", "\n\n", html_lib.unescape(text)).strip()


def count_links(text: str) -> int:
    return len(re.findall(r"https?://|www\.", text, flags=re.IGNORECASE))


def _bare_links_to_autolinks(text: str) -> str:
    # Readers paste bare URLs; Markdown autolinks need angle brackets.
    out = []
    for line in text.split("\n"):
        if line.startswith(("    ", "\t", "```")):
            out.append(line)
        else:
            out.append(_URL.sub(r"<\1>", line))
    return "\n".join(out)
