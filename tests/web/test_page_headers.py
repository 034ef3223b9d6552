"""Every HTML page of the app sends a Content-Security-Policy and nosniff: the routes are walked, none listed by hand.

The boards are also opened in headless Chromium under their policy: they connect, show a call and
report no violation of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx
import pytest
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute, iter_route_contexts

from config.schema import City, County, HallConfig
from tests.support.server import HALL
from tests.web.conftest import LiveHall, TickingClock, cheap_hashing

if TYPE_CHECKING:
    from playwright.sync_api import Browser

COUNTY = County(id="changqing-xian", name_zh="长青县", name_en="Changqing County")
CITY = City(id="changsha", name_zh="长沙市", name_en="Changsha")


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory, web_config: HallConfig) -> Iterator[LiveHall]:
    """The demo hall, on a server that is also a county's and a city's, so that their pages answer too."""
    config = web_config.model_copy(update={"county": COUNTY, "city": CITY})
    with pytest.MonkeyPatch.context() as monkeypatch:
        cheap_hashing(monkeypatch)
        running = LiveHall(tmp_path_factory.mktemp("db") / "queue.db", config, TickingClock())
        yield running
        running.stop()


def html_pages(hall: LiveHall) -> list[str]:
    """The path of every HTML page the app serves, its parameters filled in (a page with others fails here)."""
    assert hall.server is not None
    app = hall.server.app
    ticket = hall._post("/tickets", hall.kiosk or hall.server.add_device("kiosk-1"), {"category": "jisheng"},
                        **{"Idempotency-Key": "headers-1"})  # fmt: skip
    values = {"hall": HALL, "window": "1", "county": COUNTY.id, "city": CITY.id, "track_token": ticket["track_token"]}
    paths = [app.docs_url, app.redoc_url]
    for context in iter_route_contexts(app.routes):  # included routers flattened (FastAPI ≥ 0.16x)
        route = context.original_route
        if isinstance(route, APIRoute) and "GET" in route.methods and route.response_class is HTMLResponse:
            names = re.findall(r"{(\w+)}", context.path or "")
            missing = [n for n in names if n not in values]
            assert not missing, f"{context.path}: give this test a value of {missing}"
            paths.append((context.path or "").format(**{n: values[n] for n in names}))
    return paths


def test_every_html_page_sends_a_content_security_policy_and_nosniff(hall: LiveHall) -> None:
    paths = html_pages(hall)
    # The walk found the pages there are: the boards, the consoles, the dashboards, the phone pages, the API docs.
    for expected in (f"/board/{HALL}", f"/board/{HALL}/window/1", f"/rate/{HALL}/window/1", f"/clerk/{HALL}",
                     f"/manager/{HALL}", f"/county/{COUNTY.id}", f"/city/{CITY.id}", f"/book/{HALL}",
                     "/docs", "/redoc"):  # fmt: skip
        assert expected in paths
    assert any(p.startswith("/t/") for p in paths)
    for path in paths:
        response = httpx.get(hall.page_url(path), timeout=10, trust_env=False)
        assert response.status_code == 200, (path, response.text[:200])
        assert response.headers["content-type"].startswith("text/html"), path
        assert response.headers.get("x-content-type-options") == "nosniff", path
        assert response.headers.get("x-frame-options") == "DENY", path
        policy = response.headers.get("content-security-policy", "")
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
        assert directives.get("default-src") == "'self'", (path, policy)
        assert directives.get("frame-ancestors") == "'none'" and directives.get("base-uri") == "'none'", path
        if path not in ("/docs", "/redoc"):  # FastAPI's docs start with an inline script of their own
            assert directives.get("script-src") == "'self'", (path, policy)


def test_scripts_styles_and_api_answers_are_not_sniffed(hall: LiveHall) -> None:
    for path in ("/web/board.js", "/web/board.css", f"/api/v1/halls/{HALL}/time", "/board/nohall"):
        response = httpx.get(hall.page_url(path), timeout=10, trust_env=False)
        assert response.headers.get("x-content-type-options") == "nosniff", path
        assert "content-security-policy" not in response.headers or "html" in response.headers["content-type"]


@pytest.mark.parametrize(
    ("path", "window", "clerk", "category", "shown"),
    [
        (f"/board/{HALL}", 3, "wangfang", "minzheng", "#latest-number"),
        (f"/board/{HALL}/window/2", 2, "zhaogang", "guotu", "#current-number"),
    ],
)
def test_the_boards_run_under_their_policy(
    hall: LiveHall, browser: Browser, path: str, window: int, clerk: str, category: str, shown: str
) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    try:
        page = context.new_page()
        violations: list[str] = []
        page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(hall.page_url(path))
        expect(page.locator("#clock-time")).not_to_be_empty()  # (a locator: the policy forbids an evaluated string)
        token = hall.open(window, clerk)
        hall.issue(category)
        number = hall.call_next(token, window)
        expect(page.locator(shown)).to_have_text(number, timeout=10_000)
        assert not violations, violations
    finally:
        context.close()
