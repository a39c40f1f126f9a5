"""axe-core in the browser tests: the WCAG 2.2 AA violations it finds on a page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
#: Installed by `make test` (npm, into the venv's jstools).
AXE = ROOT / ".venv/jstools/node_modules/axe-core/axe.min.js"


def axe_violations(page: Any, include: list[list[str]] | None = None) -> list[Any]:
    """WCAG 2.2 AA violations axe-core finds on the page, or only in `include`'s selectors.

    Pages with a strict CSP need a context made with `bypass_csp=True` (axe is an inline
    script)."""
    page.add_script_tag(content=AXE.read_text())
    return page.evaluate(  # type: ignore[no-any-return]
        """async (include) => {
        const r = await axe.run(include ? {include} : document, {runOnly: ['wcag2a',
            'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']});
        return r.violations.map(v => ({id: v.id, nodes: v.nodes.map(n => n.target)}));
    }""",
        include,
    )
