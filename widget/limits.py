"""Every size limit, written once: models, forms, the OpenAPI document and the widget read
them from here (the widget gets them inlined into embed.js when it is served)."""

from __future__ import annotations

#: A reader's name.
AUTHOR_MAX = 80
#: An address, as RFC 5321 allows it in a path.
EMAIL_MAX = 254
#: A reader's website as typed; stored columns allow imported URLs up to URL_MAX.
WEBSITE_MAX = 500
#: A comment's Markdown source.
BODY_MAX = 10_000
#: A site's name.
SITE_NAME_MAX = 64
#: A thread key (usually the article's path).
THREAD_KEY_MAX = 512
#: A thread's title, as the page reports it.
TITLE_MAX = 300
#: Any stored URL (thread URL, imported website).
URL_MAX = 2048
#: Opaque tokens sent back by the widget (form token, honeypot).
TOKEN_MAX = 500
#: Thread keys in one /api/counts request: more than the widget's 3 KB query can hold
#: (it asks in as many requests as a page needs).
COUNT_KEYS_MAX = 500
#: Newest comments `GET /api/recent` and a site's feed give at once.
RECENT_MAX = 50
#: A moderator's login fields.
LOGIN_EMAIL_MAX = 320
PASSWORD_MAX = 1000
PASSWORD_MIN = 10
#: A block-list value (an address hash, a domain, a CIDR range, a word).
BLOCK_VALUE_MAX = 300

#: The largest id any table hands out (PostgreSQL's integer): a bigger one names nothing.
MAX_ID = 2**31 - 1

#: What the widget's form enforces in the browser, by field name.
WIDGET_LIMITS = {
    "author": AUTHOR_MAX,
    "email": EMAIL_MAX,
    "website": WEBSITE_MAX,
    "body": BODY_MAX,
}
