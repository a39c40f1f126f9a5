"""Generators for import test files: WXR, Disqus XML and Isso SQLite databases."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape


@dataclass
class C:
    """A comment in a generated export."""

    id: int
    body: str
    parent: int = 0
    author: str = "Reader"
    email: str = "reader@example.org"
    approved: str = "1"  # WordPress: 1, 0, spam, trash
    kind: str = "comment"
    date: str = "2020-05-01 10:00:00"
    url: str = ""


def wxr(
    posts: Iterable[tuple[str, str, list[C]]],
    version: str = "1.2",
    links: dict[str, str] | None = None,
) -> str:
    """A WordPress export: posts as (slug, title, comments); `links` replaces a slug's link."""
    items = []
    for index, (slug, title, comments) in enumerate(posts, start=1):
        comment_xml = "".join(
            f"""
    <wp:comment>
      <wp:comment_id>{c.id}</wp:comment_id>
      <wp:comment_author><![CDATA[{c.author}]]></wp:comment_author>
      <wp:comment_author_email>{escape(c.email)}</wp:comment_author_email>
      <wp:comment_author_url>{escape(c.url)}</wp:comment_author_url>
      <wp:comment_author_IP>192.0.2.{c.id % 250}</wp:comment_author_IP>
      <wp:comment_date>{c.date}</wp:comment_date>
      <wp:comment_date_gmt>{c.date}</wp:comment_date_gmt>
      <wp:comment_content><![CDATA[{c.body}]]></wp:comment_content>
      <wp:comment_approved>{c.approved}</wp:comment_approved>
      <wp:comment_type>{c.kind}</wp:comment_type>
      <wp:comment_parent>{c.parent}</wp:comment_parent>
    </wp:comment>"""
            for c in comments
        )
        items.append(f"""
  <item>
    <title>{escape(title)}</title>
    <link>{escape((links or {}).get(slug, f"https://blog.example/{slug}/"))}</link>
    <wp:post_id>{index}</wp:post_id>
    <wp:status>publish</wp:status>
    <wp:post_type>post</wp:post_type>{comment_xml}
  </item>""")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
  xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/{version}/">
<channel>
  <title>Blog</title>
  <link>https://blog.example</link>
  <wp:wxr_version>{version}</wp:wxr_version>{"".join(items)}
</channel>
</rss>
"""


def write_big_wxr(path: Path, comments: int, per_post: int = 100) -> None:
    """A WXR file written in pieces, so the generator itself stays small in memory."""
    with open(path, "w", encoding="utf-8") as handle:
        head, tail = wxr([]).split("</channel>")
        handle.write(head)
        for post in range(comments // per_post):
            base = post * per_post
            batch = [
                C(
                    id=base + i + 1,
                    body=f"Comment {base + i} with some words in it.",
                    parent=base + i if i % 3 == 2 else 0,
                    email=f"r{i}@example.org",
                )
                for i in range(per_post)
            ]
            handle.write(
                wxr([(f"post-{post}", f"Post {post}", batch)])
                .split("</wp:wxr_version>")[1]
                .split("</channel>")[0]
            )
        handle.write("</channel>" + tail)


DISQUS_HEAD = (
    '<?xml version="1.0" encoding="utf-8"?>\n<disqus xmlns="http://disqus.com" '
    'xmlns:dsq="http://disqus.com/disqus-internals">\n'
)


def disqus(threads: list[tuple[str, ...]], posts: list[dict[str, str]]) -> str:
    """threads: (dsq id, link, title[, identifier]); posts: dicts with id, thread, body,
    parent?, flags. As Disqus writes it, `<id>` holds the site's `disqus_identifier` and is
    empty when the embed set none."""
    out = [
        DISQUS_HEAD,
        '<category dsq:id="1"><forum>blog</forum><title>General</title>'
        "<isDefault>true</isDefault></category>\n",
    ]
    for dsq_id, link, title, *identifier in threads:
        ident = f"<id>{escape(identifier[0])}</id>" if identifier else "<id/>"
        out.append(
            f'<thread dsq:id="{dsq_id}">{ident}<forum>blog</forum>'
            f'<category dsq:id="1"/><link>{escape(link)}</link><title>{escape(title)}</title>'
            f"<message/><createdAt>2019-01-01T00:00:00Z</createdAt><isClosed>false</isClosed>"
            f"<isDeleted>false</isDeleted></thread>\n"
        )
    for p in posts:
        parent = f'<parent dsq:id="{p["parent"]}"/>' if p.get("parent") else ""
        out.append(
            f'<post dsq:id="{p["id"]}"><id/><message><![CDATA[{p["body"]}]]></message>'
            f"<createdAt>{p.get('date', '2019-02-01T10:00:00Z')}</createdAt>"
            f"<isDeleted>{p.get('deleted', 'false')}</isDeleted>"
            f"<isSpam>{p.get('spam', 'false')}</isSpam>"
            f"<author><email>{p.get('email', 'd@example.org')}</email>"
            f"<name>{escape(p.get('name', 'Disqus Reader'))}</name>"
            f"<isAnonymous>false</isAnonymous></author><ipAddress>198.51.100.9</ipAddress>"
            f'<thread dsq:id="{p["thread"]}"/>{parent}</post>\n'
        )
    out.append("</disqus>\n")
    return "".join(out)


ISSO_SCHEMA = """
CREATE TABLE threads (id INTEGER PRIMARY KEY, uri VARCHAR(256) UNIQUE, title VARCHAR(256));
CREATE TABLE comments (
    tid REFERENCES threads(id), id INTEGER PRIMARY KEY, parent INTEGER,
    created FLOAT NOT NULL, modified FLOAT, mode INTEGER, remote_addr VARCHAR,
    text VARCHAR, author VARCHAR, email VARCHAR, website VARCHAR,
    likes INTEGER DEFAULT 0, dislikes INTEGER DEFAULT 0, voters BLOB,
    notification INTEGER DEFAULT 0);
"""


def isso_db(
    path: Path,
    threads: list[tuple[int, str, str]],
    comments: list[tuple[int, int, int | None, int, str, str, str]],
) -> None:
    """comments: (tid, id, parent, mode, author, email, text)."""
    db = sqlite3.connect(path)
    db.executescript(ISSO_SCHEMA)
    db.executemany("INSERT INTO threads VALUES (?, ?, ?)", threads)
    db.executemany(
        "INSERT INTO comments (tid, id, parent, created, mode, remote_addr, text, author, email,"
        " website) VALUES (?, ?, ?, 1577880000.5, ?, '203.0.113.5', ?, ?, ?, '')",
        [(t, i, p, m, text, a, e) for t, i, p, m, a, e, text in comments],
    )
    db.commit()
    db.close()


def backup_comment(id: int, body: str, **fields: Any) -> dict[str, Any]:
    """A comment as a Parley backup holds it; `fields` replace any column."""
    return {
        "id": id,
        "parent_id": None,
        "author": "Reader",
        "email": "",
        "website": "",
        "body": body,
        "html": f"<p>{escape(body)}</p>",
        "status": "approved",
        "reasons": "",
        "spam_score": None,
        "ip": "",
        "created_at": "2021-03-04T05:06:07",
        "edited_at": None,
        "import_key": None,
        **fields,
    }


def backup_thread(
    id: int, key: str, comments: list[dict[str, Any]], **fields: Any
) -> dict[str, Any]:
    return {
        "id": id,
        "key": key,
        "title": f"Thread {id}",
        "url": f"https://blog.example{key}",
        "closed": False,
        "created_at": "2021-03-04T05:06:07",
        "comments": comments,
        "subscriptions": [],
        **fields,
    }


def write_backup(
    path: Path, threads: list[dict[str, Any]], addresses: list[dict[str, Any]] | None = None
) -> None:
    """A Parley backup of the test's "default" site (written as `export` would)."""
    site = {
        "name": "default",
        "moderation": "none",
        "notify_owner": True,
        "max_links": 3,
        "spam_threshold": 0.9,
        "spam_docs": 0,
        "ham_docs": 0,
        "created_at": "2021-01-01T00:00:00",
        "disabled_checks": "",
        "origins": ["https://blog.example"],
        "owner_email": None,
        "blocks": [],
        "spam_tokens": [],
        "threads": threads,
    }
    data = {"format": "parley-backup", "version": 1, "sites": [site], "addresses": addresses or []}
    path.write_text(json.dumps(data), encoding="utf-8")  # ASCII: lone surrogates survive


def remark42_comment(id: str, url: str, markdown: str, **fields: Any) -> dict[str, Any]:
    """A comment as Remark42's native exporter writes it (store.Comment in JSON)."""
    return {
        "id": id,
        "pid": "",
        "text": f"<p>{escape(markdown)}</p>\n",
        "orig": markdown,
        "user": {"name": "Remark Reader", "id": "github_1f2e3d", "picture": "", "ip": "9f8e7d"},
        "locator": {"site": "remark", "url": url},
        "score": 0,
        "vote": 0,
        "time": "2021-06-01T10:00:00.123456789+03:00",
        "title": "A post",
        **fields,
    }


def write_remark42(path: Path, comments: Iterable[dict[str, Any]], gzipped: bool = False) -> None:
    """A Remark42 backup: the metadata line, then one comment per line (gzipped or not)."""
    import gzip

    meta = {"version": 1, "users": [], "posts": [{"url": "https://blog.example/r/"}]}
    opener: Any = gzip.open if gzipped else open
    with opener(path, "wt", encoding="utf-8") as handle:
        handle.write(json.dumps(meta) + "\n")
        for comment in comments:
            handle.write(json.dumps(comment, ensure_ascii=False) + "\n")


def commento_comment(hex: str, url: str, markdown: str, **fields: Any) -> dict[str, Any]:
    """A comment of a Commento export (version 1), as Commento's exporter writes it."""
    return {
        "commentHex": hex,
        "domain": "blog.example",
        "url": url,
        "commenterHex": "anonymous",
        "markdown": markdown,
        "html": "",
        "parentHex": "root",
        "score": 0,
        "state": "approved",
        "creationDate": "2021-03-12T11:21:56Z",
        "direction": 0,
        "deleted": False,
        **fields,
    }


def write_commento(
    path: Path, comments: Iterable[dict[str, Any]], commenters: list[dict[str, Any]]
) -> None:
    """{"version": 1, "comments": [...], "commenters": [...]}, written a comment at a time."""
    with open(path, "w", encoding="utf-8") as handle:
        handle.write('{\n  "version": 1,\n  "comments": [\n')
        for i, comment in enumerate(comments):
            handle.write((",\n" if i else "") + "    " + json.dumps(comment, ensure_ascii=False))
        handle.write('\n  ],\n  "commenters": ' + json.dumps(commenters, indent=2) + "\n}\n")


def write_top_and_reply(path: Path, link: str) -> Path:
    """A WordPress export of one post at `link`: a comment ("top") and a reply to it."""
    path.write_text(wxr([("x", "X", [C(1, "top"), C(2, "reply", parent=1)])], links={"x": link}))
    return path
