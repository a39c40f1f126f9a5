"""The widget bundles, built once per process and served gzipped: embed.js (static/src/
bundled by esbuild into static/embed.min.js, with embed.css and the field limits inlined
here) and the chunk it loads on first use, embed-extra.js."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .limits import WIDGET_LIMITS

CSS_PLACEHOLDER = '"__PARLEY_CSS__"'
LIMITS_PLACEHOLDER = '"__PARLEY_LIMITS__"'


@dataclass(frozen=True)
class Bundle:
    body: bytes
    gzipped: bytes
    etag: str


def minify_css(css: str) -> str:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    css = re.sub(r"\s+", " ", css)
    return re.sub(r"\s*([{};,>])\s*", r"\1", css).strip()


def _bundle(body: bytes) -> Bundle:
    return Bundle(body, gzip.compress(body, 9, mtime=0), hashlib.sha256(body).hexdigest()[:16])


@cache
def widget_bundle(static_folder: str) -> Bundle:
    """embed.js with its styles in one response: one request, no stylesheet to block."""
    folder = Path(static_folder)
    script = (folder / "embed.min.js").read_text()  # `make widget` builds it
    css = minify_css((folder / "embed.css").read_text())
    script = script.replace(LIMITS_PLACEHOLDER, json.dumps(WIDGET_LIMITS, separators=(",", ":")))
    return _bundle(script.replace(CSS_PLACEHOLDER, json.dumps(css)).encode())


@cache
def extra_bundle(static_folder: str) -> Bundle:
    """The second chunk: sending the form, editing, preview, subscribing, live updates."""
    return _bundle((Path(static_folder) / "embed-extra.js").read_bytes())
