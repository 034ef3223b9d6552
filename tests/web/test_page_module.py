"""The shared page module (/web/common/page.js) in headless Chromium against a real server.

Its live link backs off exponentially with jitter while the server is gone (so a hall's PCs and phones do
not reconnect in lock-step), resumes with `since` after a restart and gets exactly the events it missed;
its server clock takes the middle of the round trip; and every page loads it (and no page keeps its own
websocket loop, el(), $() or errorText).
"""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from tests.support.server import HALL
from tests.web.conftest import LiveHall

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

WEB = Path(__file__).resolve().parents[2] / "queue_server" / "web"
LINKS = 6
FIRST_MS, MAX_MS = 200, 1600


def board(browser: Browser, hall: LiveHall) -> Page:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(hall.page_url(f"/board/{HALL}?sound=0"))
    page.wait_for_function("() => document.body.classList.contains('ready')")
    return page


def test_links_back_off_with_jitter_and_resume_with_since_after_a_restart(browser: Browser, hall: LiveHall) -> None:
    page = board(browser, hall)
    clerk = hall.open(1, "liuxia")
    hall.issue("jisheng", 3)
    assert hall.call_next(clerk, 1) == "A001"
    # Six more links on the same page, as six clerk PCs and phones of one hall would hold.
    page.evaluate(
        """([n, first, max]) => {
            window.got = [];
            const heard = (i) => (m) => m.type === "call" && window.got.push([i, m.ticket.number]);
            window.links = Array.from({length: n}, (_, i) => BianminPage.live(
                window.bianminBoard.config.ws_path, {firstMs: first, maxMs: max, onMessage: heard(i)},
            ));
        }""",
        [LINKS, FIRST_MS, MAX_MS],
    )
    page.wait_for_function("() => window.links.every((l) => l.online && l.seq !== null)")
    seq = page.evaluate("window.links[0].seq")
    assert seq >= 1

    hall.stop()
    time.sleep(4.0)  # long enough for several failed attempts each: 0.2, 0.4, 0.8, 1.6 s (±50 %)
    delays = page.evaluate("window.links.map((l) => l.delays.slice())")
    for chosen in delays:
        assert len(chosen) >= 3, delays
        for n, delay in enumerate(chosen):
            base = min(MAX_MS, FIRST_MS * 2**n)
            assert 0.5 * base - 1 <= delay <= 1.5 * base + 1, (n, chosen)
    firsts = [chosen[0] for chosen in delays]
    assert len(set(firsts)) >= 3 and max(firsts) - min(firsts) >= 20, f"links knock in lock-step: {firsts}"

    hall.start()  # the same database, the same port: the log goes on from where it was
    page.wait_for_function("() => window.links.every((l) => l.online)", timeout=15_000)
    urls = page.evaluate("window.links.map((l) => l.urls[l.urls.length - 1])")
    assert all(url.endswith(f"?since={seq}") for url in urls), urls
    hall.serve(clerk, 1)
    assert hall.call_next(clerk, 1) == "A002"
    page.wait_for_function(f"() => window.got.filter(([, n]) => n === 'A002').length === {LINKS}")
    got = page.evaluate("window.got")
    assert sorted(map(tuple, got)) == [(i, "A002") for i in range(LINKS)]  # A001 was before: not again
    # And the board itself, on the same module, resumed and shows the call.
    page.wait_for_function("() => document.getElementById('latest-number').textContent === 'A002'")
    assert page.evaluate("window.bianminBoard.link.urls.some((u) => u.includes('since='))")


def test_the_server_clock_takes_the_middle_of_the_round_trip(browser: Browser, hall: LiveHall) -> None:
    page = board(browser, hall)
    # By construction: a reading taken between sent and received is placed in their middle.
    offset = page.evaluate(
        """() => {
            const c = Object.create(Object.getPrototypeOf(BianminPage.clock));
            Object.assign(c, {offsetMs: 0, rttMs: null, sampledAt: 0, sample: BianminPage.clock.sample});
            c.sample(new Date(1_000_000).toISOString(), 400_000, 400_600);
            const first = c.offsetMs;
            // A slower sample that agrees is ignored; one that cannot agree (the server's clock moved) is taken.
            c.sample(new Date(1_000_300).toISOString(), 400_500, 401_500);
            const kept = c.offsetMs;
            c.sample(new Date(9_000_000).toISOString(), 401_000, 402_000);
            return [first, kept, c.offsetMs];
        }"""
    )
    assert offset == [600_000 - 300, 600_000 - 300, 9_000_000 - 401_500]
    # Against the real server: the page's idea of the server's time is within the round trip of the truth.
    page.wait_for_function("() => BianminPage.clock.rttMs !== null")
    page_now, rtt = page.evaluate("[BianminPage.clock.now(), BianminPage.clock.rttMs]")
    truth = hall.clock().timestamp() * 1000
    assert abs(page_now - truth) <= rtt / 2 + 250, (page_now, truth, rtt)
    assert dt.datetime.fromtimestamp(page_now / 1000, dt.UTC).date() == hall.clock().date()


def test_every_page_loads_the_module_and_keeps_no_helper_of_its_own(hall: LiveHall) -> None:
    hall.issue("jisheng")
    ticket = hall._post("/tickets", hall.kiosk, {"category": "jisheng"}, **{"Idempotency-Key": "page-module"})
    pages = [f"/board/{HALL}", f"/board/{HALL}/window/1", f"/rate/{HALL}/window/1", f"/clerk/{HALL}",
             f"/manager/{HALL}", f"/book/{HALL}", f"/t/{ticket['track_token']}"]  # fmt: skip
    for path in pages:
        html = httpx.get(hall.page_url(path), trust_env=False).text
        first_script = re.search(r'<script src="([^"]+)"', html)
        assert first_script and first_script.group(1).startswith("/web/common/page.js?v="), path
    module = httpx.get(hall.page_url("/web/common/page.js"), trust_env=False)
    assert module.status_code == 200 and module.headers["content-type"].startswith("text/javascript")
    scripts = [p for p in WEB.rglob("*.js") if p.parent.name != "vendor" and p.name != "page.js"]
    for script in scripts:
        source = script.read_text(encoding="utf-8")
        name = script.relative_to(WEB)
        assert "new WebSocket(" not in source, f"{name} opens a websocket of its own"
        assert "document.createElement(" not in source, f"{name} builds elements without el()"
        assert not re.search(r"function (\$|errorText)\(", source), f"{name} defines its own $() or errorText"
        assert "sessionStorage." not in source, f"{name} keeps the session itself"
