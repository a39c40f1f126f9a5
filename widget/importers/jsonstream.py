"""Reading big JSON exports without holding them: the members of a top-level object, each
element of a top-level array on its own, and JSON lines (optionally gzipped).

Every value read at once is bounded (VALUE_MAX characters): a hostile or broken file is
refused with ImportError_, never parsed whole into memory.
"""

from __future__ import annotations

import codecs
import gzip
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from .base import ImportError_, ProgressFile, progress_bar

#: Longest single value (one comment, one line) read at once, in characters.
VALUE_MAX = 1 << 20
CHUNK = 1 << 16
_DECODER = json.JSONDecoder()
_SPACE = " \t\r\n"


@contextmanager
def open_export(path: Path, progress: bool) -> Iterator[IO[bytes]]:
    """The file's bytes, gunzipped when it is gzipped (Remark42 backups are), with the
    progress bar following the bytes read from disk."""
    size = path.stat().st_size
    with open(path, "rb") as raw, progress_bar(size, progress) as bar:
        gzipped = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        source: Any = ProgressFile(raw, bar.update)
        if gzipped:
            with gzip.GzipFile(fileobj=source, mode="rb") as unzipped:
                yield unzipped  # type: ignore[misc]
        else:
            yield source


class _Text:
    """Characters from a byte stream, decoded as UTF-8, with a bounded look-ahead buffer."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.buf, self.pos, self.eof = "", 0, False

    def _more(self) -> bool:
        if self.eof:
            return False
        try:
            chunk = self.handle.read(CHUNK)
            self.buf = self.buf[self.pos :] + self.decoder.decode(chunk, final=not chunk)
        except (UnicodeDecodeError, OSError, EOFError) as exc:  # gzip: OSError, EOFError
            raise ImportError_(f"refused: not a readable UTF-8 JSON file ({exc})") from exc
        self.pos = 0
        self.eof = not chunk
        return True

    def peek(self) -> str:
        """The next character that is not white space ("" at the end)."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in _SPACE:
                self.pos += 1
            if self.pos < len(self.buf) or not self._more():
                return self.buf[self.pos : self.pos + 1]

    def take(self, expected: str) -> str:
        found = self.peek()
        if not found or found not in expected:
            raise ImportError_(f"refused: not the expected JSON (wanted {expected!r})")
        self.pos += 1
        return found

    def value(self) -> Any:
        """The next JSON value, read whole (it must fit in VALUE_MAX characters)."""
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError:
                end = None
            except RecursionError as exc:
                raise ImportError_("refused: JSON nested too deeply") from exc
            # A number that ends with the buffer may go on in the next chunk.
            if end is not None and (end < len(self.buf) or self.eof):
                self.pos = end
                return value
            if len(self.buf) - self.pos > VALUE_MAX or not self._more():
                if end is not None:
                    self.pos = end
                    return value
                raise ImportError_(
                    f"refused: a JSON value that cannot be read, or over {VALUE_MAX} characters"
                )


def members(handle: IO[bytes]) -> Iterator[tuple[str, Any]]:
    """(key, value) for each member of the top-level object; a member whose value is an
    array gives one (key, element) pair per element instead, read one at a time."""
    text = _Text(handle)
    text.take("{")
    if text.peek() == "}":
        return
    while True:
        key = text.value()
        if not isinstance(key, str):
            raise ImportError_("refused: not a JSON object")
        text.take(":")
        if text.peek() == "[":
            text.take("[")
            if text.peek() == "]":
                text.take("]")
            else:
                while True:
                    yield key, text.value()
                    if text.take(",]") == "]":
                        break
        else:
            yield key, text.value()
        if text.take(",}") == "}":
            return


def lines(handle: IO[bytes]) -> Iterator[Any]:
    """Each line of a JSON lines file as a value; a line that is not JSON (or is too long)
    yields an ImportError_ instance in its place, for the reader to count and skip."""
    while True:
        raw = handle.readline(VALUE_MAX + 1)
        if not raw:
            return
        if len(raw) > VALUE_MAX and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):  # the rest of the line, dropped
                raw = handle.readline(CHUNK)
            yield ImportError_(f"a line over {VALUE_MAX} bytes")
            continue
        if not raw.strip():
            continue
        try:
            yield json.loads(raw)
        except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
            yield ImportError_("a line that is not JSON")
