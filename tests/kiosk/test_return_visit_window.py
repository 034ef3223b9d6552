"""补办 / 补交材料 on the real Kivy kiosk in an offscreen window, against a real server and a fake printer: the case
code typed on the keypad or typed by a USB QR scanner (a keyboard), an unknown code and a case that waits for no
materials said on the screen in Chinese and English, and the 补办件's ticket issued, printed and linked to the case."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.kiosk.conftest import with_printer
from tests.kiosk.test_kiosk_window import (
    check_screens,
    issue,
    kivy_installed,
    qr_on_screen,
    run_kiosk,
    server_number,
    type_code,
)
from tests.printer.fake_printer import FakePrinter
from tests.support.server import HALL, RunningServer, demo_config

__all__ = ["kivy_installed"]  # the fixture, shared with the kiosk's other window tests
ITEM = "jisheng-childcare-subsidy"


def finished_case(server: RunningServer, clerk: str, body: dict[str, Any], key: str) -> str:
    """A ticket for ITEM issued, called and finished at window 1 with `body`: its case code."""
    api = httpx.Client(base_url=f"{server.url}/api/v1/halls/{HALL}", trust_env=False, timeout=10,
                       headers={"Authorization": f"Bearer {clerk}"})  # fmt: skip
    with api:
        token = server.add_device("kiosk-1")
        made = api.post("/tickets", json={"item_id": ITEM}, headers={"Authorization": f"Bearer {token}",
                                                                      "Idempotency-Key": key})  # fmt: skip
        assert made.status_code == 201, made.text
        for action, sent in (("call-next", None), ("start", None), ("finish", body)):
            answer = api.post(f"/windows/1/{action}", json=sent)
            assert answer.status_code == 200, answer.text
        return str(answer.json()["case_code"])


@pytest.mark.timeout(300)
def test_a_return_visit_by_keypad_and_by_scanner(
    kivy_installed: None, start_hall: Callable[..., RunningServer], fake_printer: FakePrinter, tmp_path: Path
) -> None:
    server = start_hall(with_printer(demo_config(), fake_printer.port))
    clerk = server.add_staff("liuxia")
    opened = httpx.post(f"{server.url}/api/v1/halls/{HALL}/windows/1/open", json={"post": "A"},
                        headers={"Authorization": f"Bearer {clerk}"}, trust_env=False, timeout=10)  # fmt: skip
    assert opened.status_code == 200, opened.text
    missing = finished_case(server, clerk, {"case_class": "supplement", "missing_materials": ["户口簿"]}, "s-1")
    promised = finished_case(server, clerk, {"case_class": "promised"}, "s-2")
    issue(server, "guotu", "earlier-1")
    unknown = "XXXXXXXXX" if missing != "XXXXXXXXX" else "YYYYYYYYY"
    steps = [
        ["wait_live"], ["tap", "补办 / 补交材料"], ["wait_screen", "return_visit"],
        *type_code(unknown[:8]), ["wait_text", "已输入 8/9 位"], ["tap", "退 格"], *type_code(unknown[7:]),
        ["wait_text", "请点击「取号」"], ["tap", "取 号"], ["wait_text", "未找到该办件编号"],
        ["shot", "kiosk-return-visit-not-found"],
        ["type", promised, True], ["wait_text", "该办件不需要补交材料"], ["shot", "kiosk-return-visit-not-waiting"],
        ["type", f"{missing[:4].lower()}-{missing[4:]}", True], ["wait_screen", "ticket"], ["wait_print", "done"],
        ["shot", "kiosk-return-visit-ticket"],
    ]  # fmt: skip
    run = run_kiosk(server, tmp_path, steps)
    check_screens(run)
    not_found = set(run.shot("kiosk-return-visit-not-found")["texts"])
    assert {
        "补办 / 补交材料",
        "未找到该办件编号",
        "请核对补正通知上的办件编号 " + unknown + "，或到咨询台询问。",
    } <= not_found
    assert run.shot("kiosk-return-visit-not-found")["screen"] == "return_visit"
    not_waiting = set(run.shot("kiosk-return-visit-not-waiting")["texts"])
    assert "该办件不需要补交材料" in not_waiting and any(promised in line for line in not_waiting)
    assert run.shot("kiosk-return-visit-not-waiting")["screen"] == "return_visit"
    ticket = run.shot("kiosk-return-visit-ticket")
    (track_url,) = qr_on_screen(ticket["png"])  # the phone's link, as the citizen scans it off the screen
    number = server_number(server, track_url)
    assert (
        ticket["screen"] == "ticket" and number in ticket["texts"] and "凭条已打印，请在出纸口取走" in ticket["texts"]
    )
    manager = server.add_staff("director", "manager")
    staff = {"Authorization": f"Bearer {manager}"}
    case = httpx.get(f"{server.url}/api/v1/halls/{HALL}/cases/{missing}", headers=staff, trust_env=False,
                     timeout=10).json()  # fmt: skip
    assert case["state"] == "in_progress" and [(v["number"], v["via"]) for v in case["visits"]] == [(number, "kiosk")]
    other = httpx.get(f"{server.url}/api/v1/halls/{HALL}/cases/{promised}", headers=staff, trust_env=False,
                      timeout=10).json()  # fmt: skip
    assert other["visits"] == [], "the refused return visit linked nothing"
    assert len(fake_printer.jobs()) == 1, "one receipt: the refused tries printed nothing"
