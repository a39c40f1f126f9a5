"""The widget bundle: embed.js with embed.css inlined, built once per process, served gzipped."""

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


@cache
def widget_bundle(static_folder: str) -> Bundle:
    """embed.js with its styles in one response: one request, no stylesheet to block."""
    folder = Path(static_folder)
    # `make widget` writes the minified build; the readable source is the fallback.
    minified = folder / "embed.min.js"
    script = (minified if minified.exists() else folder / "embed.js").read_text()
    css = minify_css((folder / "embed.css").read_text())
    script = script.replace(LIMITS_PLACEHOLDER, json.dumps(WIDGET_LIMITS, separators=(",", ":")))
    body = script.replace(CSS_PLACEHOLDER, json.dumps(css)).encode()
    return Bundle(body, gzip.compress(body, 9, mtime=0), hashlib.sha256(body).hexdigest()[:16])
