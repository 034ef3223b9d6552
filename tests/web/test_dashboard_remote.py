"""The manager's day report counts 远程取号 (a tile by channel, its outcomes below), in headless Chromium."""

from __future__ import annotations

from tests.support.server import HALL
from tests.web.conftest import LiveHall
from tests.web.test_dashboard import OpenPage, figure, log_in, open_page

__all__ = ["open_page"]  # the dashboard's page fixture, used here


def test_the_day_report_shows_the_remote_tickets_and_what_became_of_them(hall: LiveHall, open_page: OpenPage) -> None:
    assert hall.server is not None
    hall.server.add_staff("director", "manager", name="王主任")
    codes = []
    for n in range(2):
        answer = hall.http.post("/remote-tickets", json={"category": "jisheng", "device_id": f"phone-dash-{n:012d}"})
        assert answer.status_code == 201, answer.text
        codes.append(answer.json()["code"])
    hall.issue("jisheng")  # registers the kiosk
    checked = hall.http.post(f"/appointments/{codes[0]}/check-in", headers={"Authorization": f"Bearer {hall.kiosk}"})
    assert checked.status_code == 201, checked.text

    page = open_page(f"/manager/{HALL}")
    log_in(page, "director")
    page.wait_for_function("() => window.bianminDashboard.wall !== null")
    page.click('#tabs [data-tab="reports"]')
    page.wait_for_function("() => window.bianminDashboard.report !== null")
    page.wait_for_selector('#report-figures [data-figure="remote"]')
    assert figure(page, "#report-figures", "remote") == "2"
    note = page.inner_text('#report-figures [data-figure="remote"] .note')
    assert note == "签到 1 · 未到 0 · 取消 0"
    assert figure(page, "#report-figures", "issued") == "2"  # the kiosk's ticket and the one checked in
