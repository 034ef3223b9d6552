"""办件查询 · 投诉 on the real Kivy kiosk in an offscreen window, against a real server: opened from the start screen
and from an item's facts, a case code typed on the keypad shows the state and due date the public lookup gives, an
unknown code and a stopped server are said on the screen, and the QR code on screen opens /q/{hall} on a phone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.kiosk.test_kiosk_window import check_screens, kivy_installed, qr_on_screen, run_kiosk, type_code
from tests.kiosk.test_return_visit_window import finished_case
from tests.support.server import HALL, RunningServer

__all__ = ["kivy_installed"]  # the fixture, shared with the kiosk's other window tests
WEEKDAYS = "一二三四五六日"


def chinese_day(day: str) -> str:
    moment = dt.date.fromisoformat(day)
    return f"{moment.year}年{moment.month}月{moment.day}日 星期{WEEKDAYS[moment.weekday()]}"


@pytest.mark.timeout(300)
def test_look_a_case_up_by_its_code_and_scan_the_supervision_page(
    kivy_installed: None, start_hall: Callable[..., RunningServer], tmp_path: Path
) -> None:
    server = start_hall()
    clerk = server.add_staff("liuxia")
    opened = httpx.post(f"{server.url}/api/v1/halls/{HALL}/windows/1/open", json={"post": "A"},
                        headers={"Authorization": f"Bearer {clerk}"}, trust_env=False, timeout=10)  # fmt: skip
    assert opened.status_code == 200, opened.text
    code = finished_case(server, clerk, {"case_class": "promised"}, "c-1")
    public = httpx.get(f"{server.url}/api/v1/halls/{HALL}/case-lookup/{code}", trust_env=False, timeout=10).json()
    assert public["due_on"] and public["window_name_zh"], public
    unknown = "XXXXXXXXX" if code != "XXXXXXXXX" else "YYYYYYYYY"
    steps = [
        ["wait_live"], ["tap", "计生服务"], ["wait_screen", "category"], ["tap", "生育登记"], ["wait_screen", "item"],
        ["tap", "办件查询 · 投诉"], ["wait_screen", "case_lookup"], ["tap", "‹ 返回"], ["wait_screen", "item"],
        ["tap", "首页"], ["wait_screen", "home"], ["shot", "kiosk-home-case-lookup"],
        ["tap", "办件查询 · 投诉"], ["wait_screen", "case_lookup"],
        *type_code(unknown), ["wait_text", "请点击「查询」"], ["tap", "查 询"], ["wait_text", "未查到该办件编号"],
        ["shot", "kiosk-case-lookup-not-found"], ["tap", "清 空"],
        *type_code(code), ["tap", "查 询"], ["wait_text", f"办件 {code}："], ["shot", "kiosk-case-lookup"],
        ["parent", "stop-the-server"], ["wait_text", "网络中断"],
        ["tap", "查 询"], ["wait_text", "暂时无法连接服务器"], ["shot", "kiosk-case-lookup-unreachable"],
    ]  # fmt: skip
    run = run_kiosk(server, tmp_path, steps, when={"stop-the-server": server.stop})
    check_screens(run)
    assert "办件查询 · 投诉\n查办理进度 扫码投诉" in run.shot("kiosk-home-case-lookup")["texts"]
    not_found = run.shot("kiosk-case-lookup-not-found")
    assert not_found["screen"] == "case_lookup"
    assert {"未查到该办件编号", f"请核对回执或通知上的办件编号 {unknown}，或到咨询台询问。"} <= set(not_found["texts"])
    found = run.shot("kiosk-case-lookup")
    (panel,) = [text for text in found["texts"] if text.startswith("办理事项：")]
    assert f"办件 {code}：{public['state_zh']}" in found["texts"]
    assert panel.split("\n") == [
        f"办理事项：{public['item_name_zh']}",
        f"受理日期：{chinese_day(public['opened_day'])}",
        f"承诺办结日期：{chinese_day(public['due_on'])}",
        f"办理窗口：{public['window_name_zh']}",
        f"经办科室：{public['department']}",
    ]
    assert qr_on_screen(found["png"]) == [f"{server.url}/q/{HALL}"]  # what a phone opens: public supervision
    unreachable = set(run.shot("kiosk-case-lookup-unreachable")["texts"])
    assert {"暂时无法连接服务器", "请稍后再点「查询」重试，或用手机扫描二维码查询。"} <= unreachable


@pytest.mark.timeout(300)
def test_landscape_and_english_fit(
    kivy_installed: None, start_hall: Callable[..., RunningServer], tmp_path: Path
) -> None:
    server = start_hall()
    clerk = server.add_staff("liuxia")
    opened = httpx.post(f"{server.url}/api/v1/halls/{HALL}/windows/1/open", json={"post": "A"},
                        headers={"Authorization": f"Bearer {clerk}"}, trust_env=False, timeout=10)  # fmt: skip
    assert opened.status_code == 200, opened.text
    code = finished_case(server, clerk, {"case_class": "supplement", "missing_materials": ["户口簿"]}, "c-2")
    steps = [
        ["wait_live"], ["tap", "English"], ["wait_text", "Case lookup · Complaints"],
        ["shot", "kiosk-landscape-home-en"],
        ["tap", "Case lookup · Complaints"], ["wait_screen", "case_lookup"], ["shot", "kiosk-landscape-case-lookup-en"],
        ["type", code, True], ["wait_text", f"Case {code}:"], ["shot", "kiosk-landscape-case-lookup-found-en"],
        ["tap", "中文"], ["wait_text", f"办件 {code}："], ["shot", "kiosk-landscape-case-lookup"],
    ]  # fmt: skip
    run = run_kiosk(server, tmp_path, steps, size=(1920, 1080))
    check_screens(run, (1920, 1080))
    found = run.shot("kiosk-landscape-case-lookup-found-en")
    assert f"Case {code}: accepted" in found["texts"], found["texts"]
    (panel,) = [text for text in found["texts"] if text.startswith("Service: ")]
    assert "The time limit starts once the materials are brought\nTo bring: 户口簿" in panel
    assert qr_on_screen(run.shot("kiosk-landscape-case-lookup")["png"]) == [f"{server.url}/q/{HALL}"]
