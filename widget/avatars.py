"""Identicons drawn locally from a keyed hash: no third-party request, no MD5 of an address."""

from __future__ import annotations

import re

_SEED = re.compile(r"^[0-9a-f]{8,64}$")


def is_seed(text: str) -> bool:
    return bool(_SEED.match(text))


def identicon_svg(seed: str, size: int = 5) -> str:
    """A symmetric 5x5 pattern in one colour picked from the seed."""
    bits = bin(int(seed, 16))[2:].zfill(len(seed) * 4)
    hue = int(seed[:3], 16) % 360
    cells = []
    half = (size + 1) // 2
    for y in range(size):
        for x in range(half):
            if bits[y * half + x + 12] == "1":
                for col in {x, size - 1 - x}:
                    cells.append(f'<rect x="{col}" y="{y}" width="1" height="1"/>')
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="-1 -1 {size + 2} {size + 2}" '
        f'width="48" height="48"><rect x="-1" y="-1" width="{size + 2}" height="{size + 2}" '
        f'fill="hsl({hue},45%,92%)"/><g fill="hsl({hue},55%,42%)">{"".join(cells)}</g></svg>'
    )
