"""axe-core (the copy packaged on PyPI as axe-playwright-python) run inside a page: its serious and critical violations.

The script goes in through the browser's debugging protocol (Playwright's evaluate), which a page's
Content-Security-Policy does not govern, so the pages are checked exactly as served.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Page

BLOCKING = ("serious", "critical")


@cache
def axe_source() -> str:
    return files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8")


def violations(page: Page, impacts: tuple[str, ...] = BLOCKING) -> list[dict[str, Any]]:
    """axe's violations of the given impacts on the page as it is now: rule, impact, and the nodes' targets."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {
            "rule": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [(n["target"], n.get("failureSummary", "")[:200]) for n in v["nodes"][:8]],
        }
        for v in result["violations"]
        if v["impact"] in impacts
    ]
