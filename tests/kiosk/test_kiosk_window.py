"""The real Kivy kiosk in an offscreen window, against a real server and a fake network printer.

Each kiosk runs in a child process (tests/kiosk/window_driver.py) so that Kivy's global state and
its log handlers never enter the pytest process; it is touched like a finger would (touch down and
up on the button's centre) and reports what it showed. Without Kivy or a GL driver these tests skip,
except under CI=true, where they fail: CI must run them.

To refresh the screenshots in docs/screenshots, run them with BIANMIN_SCREENSHOT_DIR=docs/screenshots.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import zxingcpp
from PIL import Image

from printer.layout.wrap import NO_LINE_END, NO_LINE_START
from tests.kiosk.conftest import with_cap, with_printer
from tests.printer.fake_printer import FakePrinter
from tests.queue_server.test_crash import read_demo_accounts
from tests.support.kivy_window import Driver, keep_screenshots, require_kivy, window_env
from tests.support.server import HALL, RunningServer, demo_config, spawn_server

STEP_TIMEOUT_S = 90.0  # Kivy's first start on a slow machine compiles shaders, loads the font...
PORTRAIT = (1080, 1920)


@pytest.fixture(scope="module")
def kivy_installed() -> None:
    require_kivy()


@dataclass
class KioskRun:
    result: dict[str, Any]
    log: Path

    def shot(self, name: str) -> dict[str, Any]:
        shot: dict[str, Any] = self.result["shots"][name]
        return shot


@dataclass
class Spawned:
    """A `bianmin serve` child process (which the test kills and restarts) as run_kiosk needs it."""

    url: str
    token: str
    hall: str = HALL

    def add_device(self, _device: str) -> str:
        return self.token


def run_kiosk(
    server: RunningServer | Spawned,
    tmp_path: Path,
    steps: list[list[Any]],
    *,
    size: tuple[int, int] = PORTRAIT,
    when: dict[str, Callable[[], None]] | None = None,
) -> KioskRun:
    """Play `steps` on a kiosk in a child process; at each `["parent", TAG]` step run when[TAG]()."""
    token_file = tmp_path / "device-token"
    token_file.write_text(server.add_device("kiosk-1"))
    token_file.chmod(0o600)
    script = tmp_path / "steps.json"
    script.write_text(json.dumps(steps, ensure_ascii=False))
    out = tmp_path / "screens"
    out.mkdir(exist_ok=True)
    log = tmp_path / "kiosk.log"
    arguments = ["--server", server.url, "--token-file", str(token_file), "--script", str(script), "--out", str(out),
                 "--size", "x".join(map(str, size)), "--virtual-root", str(tmp_path / "virtual-printer")]  # fmt: skip
    driver = Driver("kiosk", "tests.kiosk.window_driver", arguments, env=window_env(tmp_path, SDL_AUDIODRIVER="dummy"),
                    log=log, timeout_s=STEP_TIMEOUT_S, stdin=True)  # fmt: skip
    with driver:
        while True:
            line = driver.next_line("its next step")
            if line.startswith("WAIT "):
                (when or {})[line.removeprefix("WAIT ")]()
                driver.tell("go")
            elif line.startswith("RESULT "):
                result = driver.result(line)
                break
    driver.check(result)
    keep_screenshots(Path(shot["png"]) for shot in result["shots"].values())
    return KioskRun(result, log)


def check_screens(run: KioskRun, size: tuple[int, int] = PORTRAIT) -> None:
    """Every screenshot: the right size, not blank, nothing cut off, every touch target big enough."""
    assert run.result["chinese_renders"] is True, "hanzi render as missing-glyph boxes: the CJK font is not used"
    for name, shot in run.result["shots"].items():
        assert shot["size"] == list(size), name
        assert shot["cut_off"] == [], f"{name}: these texts do not fit their boxes"
        assert shot["small_targets"] == [], f"{name}: touch targets smaller than 120 design pixels"
        with Image.open(shot["png"]) as image:
            assert image.size == size
            colours = image.convert("RGB").resize((108, 192)).getcolors(maxcolors=108 * 192)
            assert colours is not None and len(colours) > 20, f"{name} looks blank"


def qr_on_screen(png: str) -> list[str]:
    with Image.open(png) as image:
        return [code.text for code in zxingcpp.read_barcodes(image.convert("L"))]


def server_number(server: RunningServer | Spawned, track_url: str) -> str:
    """The number the server holds for the ticket behind the QR code the kiosk showed."""
    token = track_url.rsplit("/t/", 1)[1]
    answer = httpx.get(f"{server.url}/api/v1/halls/{HALL}/tickets/{token}", trust_env=False, timeout=10)
    assert answer.status_code == 200, answer.text
    number: str = answer.json()["number"]
    return number


def issue(server: RunningServer, category: str, key: str) -> None:
    token = server.add_device("kiosk-1")
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
    answer = httpx.post(f"{server.url}/api/v1/halls/{HALL}/tickets", json={"category": category}, headers=headers,
                        trust_env=False, timeout=10)  # fmt: skip
    assert answer.status_code == 201, answer.text


@pytest.mark.timeout(300)
def test_touch_a_category_an_item_and_take_a_ticket(
    kivy_installed: None, start_hall: Callable[..., RunningServer], fake_printer: FakePrinter, tmp_path: Path
) -> None:
    server = start_hall(with_printer(demo_config(), fake_printer.port))
    issue(server, "jisheng", "earlier-1")
    issue(server, "jisheng", "earlier-2")
    steps = [
        ["wait_live"], ["wait_text", "等候 2 人"], ["shot", "kiosk-home"],
        ["tap", "计生服务"], ["wait_screen", "category"], ["shot", "kiosk-category"],
        ["tap", "生育登记"], ["wait_screen", "item"],
        ["tap", "打印告知单"], ["wait_text", "告知单已打印"], ["shot", "kiosk-item"],
        ["take", "取 号"], ["wait_print", "done"], ["shot", "kiosk-ticket"],
        ["tap", "完 成"], ["wait_screen", "home"],
        ["tap", "绿色通道"], ["wait_screen", "green"], ["shot", "kiosk-green"], ["tap", "‹ 返回"],
        ["tap", "办事指南"], ["wait_screen", "guide"], ["shot", "kiosk-guide"], ["tap", "首页"],
        ["tap", "预约签到"], ["wait_screen", "checkin"], ["tap", "首页"],
        ["tap", "English"], ["wait_screen", "home"], ["shot", "kiosk-home-en"],
    ]  # fmt: skip
    run = run_kiosk(server, tmp_path, steps)
    check_screens(run)
    home = run.shot("kiosk-home")["texts"]
    assert home[:2] == ["青山镇便民服务中心", home[1]] and "请点击要办理的业务取号" in home
    assert home[home.index("计生服务") + 1] == "等候 2 人"  # live over the websocket
    assert {"绿色通道\n老人 残疾人 军人", "预约签到\n已预约的群众", "办事指南\n要带什么材料"} <= set(home)
    assert "生育登记  ›" in run.shot("kiosk-category")["texts"]
    item = run.shot("kiosk-item")["texts"]
    assert {"办事条件", "申报材料", "取 号", "打印告知单", "告知单已打印，请在出纸口取走"} <= set(item)
    # The ticket: the number the server issued, very large, with the QR code of its tracking page.
    ticket = run.shot("kiosk-ticket")
    assert run.result["track_url"].startswith(server.url + "/t/")
    number = server_number(server, run.result["track_url"])
    assert number == "A003" and ticket["texts"][ticket["texts"].index("您的号码") + 1] == number
    assert {"计生服务 · 生育登记", "请到 1号窗口、10号窗口 等候叫号", "前面还有2人等候",
            "凭条已打印，请在出纸口取走"} <= set(ticket["texts"])  # fmt: skip
    assert qr_on_screen(ticket["png"]) == [run.result["track_url"]]
    # The printer received the notice, then the receipt with the same QR code.
    from printer.layout.emulator import emulate

    notice, receipt = fake_printer.jobs()
    assert emulate(notice, 576).image.height > 1500
    receipt_picture = emulate(receipt, 576).image.convert("L")
    assert [code.text for code in zxingcpp.read_barcodes(receipt_picture)] == [run.result["track_url"]]
    assert "Birth registration" not in ticket["texts"]
    assert "Tap the service you need" in run.shot("kiosk-home-en")["texts"]
    assert run.result["take_ms"] and run.result["take_ms"][0] > 0


def book(server: RunningServer, start: str, item_id: str = "jisheng-birth-registration") -> str:
    """Book today's slot at `start` (the server's clock is Monday 09:00) through the public API: its code."""
    body = {"item_id": item_id, "day": "2026-03-16", "start": start}
    answer = httpx.post(f"{server.url}/api/v1/halls/{HALL}/appointments", json=body, trust_env=False, timeout=10)
    assert answer.status_code == 201, answer.text
    code: str = answer.json()["code"]
    return code


def type_code(code: str) -> list[list[Any]]:
    return [["tap", symbol] for symbol in code]


@pytest.mark.timeout(300)
def test_check_in_an_appointment_on_screen(
    kivy_installed: None, start_hall: Callable[..., RunningServer], fake_printer: FakePrinter, tmp_path: Path
) -> None:
    server = start_hall(with_printer(demo_config(), fake_printer.port))
    issue(server, "jisheng", "earlier-1")
    later, now = book(server, "11:00"), book(server, "09:30")
    steps = [
        ["wait_live"], ["tap", "预约签到"], ["wait_screen", "checkin"],
        *type_code(later), ["wait_text", "请点击「签到」"], ["tap", "签 到"], ["wait_screen", "error"],
        ["shot", "kiosk-checkin-too-early"], ["tap", "‹ 返回"], ["wait_screen", "checkin"], ["tap", "清 空"],
        *type_code(now[:7]), ["tap", "退 格"], *type_code(now[6:]), ["wait_text", "请点击「签到」"],
        ["shot", "kiosk-checkin"],
        ["take", "签 到"], ["wait_print", "done"], ["shot", "kiosk-checkin-ticket"],
    ]  # fmt: skip
    run = run_kiosk(server, tmp_path, steps)
    check_screens(run)
    early = run.shot("kiosk-checkin-too-early")["texts"]
    assert {"还未到签到时间", "请于10:30后再来签到。如不想等候，也可以取普通号。"} <= set(early)
    typed = run.shot("kiosk-checkin")["texts"]
    assert {"预约签到", "签 到", "请点击「签到」"} <= set(typed)
    ticket = run.shot("kiosk-checkin-ticket")
    number = server_number(server, run.result["track_url"])
    assert ticket["texts"][ticket["texts"].index("您的号码") + 1] == "预约"
    assert number in ticket["texts"] and {"计生服务 · 生育登记", "凭条已打印，请在出纸口取走"} <= set(ticket["texts"])
    assert qr_on_screen(ticket["png"]) == [run.result["track_url"]]
    state = httpx.get(f"{server.url}/api/v1/halls/{HALL}/appointments/{now}", trust_env=False, timeout=10).json()
    assert state["state"] == "checked_in"
    (receipt,) = fake_printer.jobs()
    from printer.layout.emulator import emulate

    receipt_picture = emulate(receipt, 576).image.convert("L")
    assert [code.text for code in zxingcpp.read_barcodes(receipt_picture)] == [run.result["track_url"]]


@pytest.mark.timeout(240)
def test_server_down_shows_its_message(
    kivy_installed: None, start_hall: Callable[..., RunningServer], fake_printer: FakePrinter, tmp_path: Path
) -> None:
    server = start_hall(with_printer(demo_config(), fake_printer.port))
    steps = [
        ["wait_live"], ["tap", "国土建设"], ["wait_screen", "category"],
        ["parent", "stop-the-server"],
        ["tap", "不确定办哪一项？直接取号"], ["wait_screen", "error"], ["wait_text", "网络中断"],
        ["shot", "kiosk-error-server-down"],
    ]  # fmt: skip
    run = run_kiosk(server, tmp_path, steps, when={"stop-the-server": server.stop})
    check_screens(run)
    texts = run.shot("kiosk-error-server-down")["texts"]
    assert "暂时无法连接服务器" in texts and "重 试" in texts
    assert "没有取到号，请稍候点击「重试」；也可到综合受理窗口咨询。" in texts
    assert "网络中断，正在重新连接…（排队人数可能不是最新的）" in texts
    assert run.result["number"] is None and fake_printer.jobs() == []


@pytest.mark.timeout(300)
def test_a_killed_server_is_noticed_at_once_and_the_tap_goes_through_once_it_is_back(
    kivy_installed: None, tmp_path: Path
) -> None:
    db = tmp_path / "queue.db"
    serve = spawn_server(db, tmp_path / "server.log", cwd=tmp_path)
    port = serve.port
    times: dict[str, float] = {}

    def kill() -> None:
        serve.kill()  # SIGKILL: no goodbye on the websocket, the kernel closes its socket
        times["killed"] = time.monotonic()

    def noticed() -> None:
        times["noticed"] = time.monotonic()

    def restart() -> None:
        nonlocal serve
        serve = spawn_server(db, tmp_path / "server.log", port=port, cwd=tmp_path)
        times["restarted"] = time.monotonic()

    def shown() -> None:
        times["shown"] = time.monotonic()

    steps = [
        ["wait_live"], ["tap", "国土建设"], ["wait_screen", "category"],
        ["parent", "kill"], ["wait_text", "网络中断"], ["parent", "noticed"],
        # A citizen taps in the outage: told the truth at once, no ticket.
        ["tap", "不确定办哪一项？直接取号"], ["wait_screen", "error"], ["wait_text", "暂时无法连接服务器"],
        ["shot", "kiosk-error-while-down"],
        ["parent", "restart"], ["wait_screen", "ticket"], ["parent", "shown"], ["shot", "kiosk-ticket-server-back"],
    ]  # fmt: skip
    try:
        server = Spawned(serve.url, read_demo_accounts(tmp_path / "demo-accounts.txt").kiosk_token)
        run = run_kiosk(server, tmp_path, steps, when={"kill": kill, "noticed": noticed, "restart": restart,
                                                       "shown": shown})  # fmt: skip
        assert serve.port == port, "the restarted server is on another port: the kiosk cannot find it"
        check_screens(run)
        assert times["noticed"] - times["killed"] < 1.5, "the kiosk took too long to notice the server was gone"
        down = run.shot("kiosk-error-while-down")["texts"]
        assert "暂时无法连接服务器" in down and "网络中断，正在重新连接…（排队人数可能不是最新的）" in down
        # Nobody tapped 重试: the kiosk tried again by itself once the server was back, with the same key.
        assert run.result["taps"] == ["国土建设", "不确定办哪一项？直接取号"]
        assert times["shown"] - times["restarted"] < 10
        number = server_number(server, run.result["track_url"])
        assert number == "B001" and number in run.shot("kiosk-ticket-server-back")["texts"]
        queues = httpx.get(f"{server.url}/api/v1/halls/{HALL}/queues", trust_env=False, timeout=10,
                           headers={"Authorization": f"Bearer {server.token}"}).json()["queues"]  # fmt: skip
        assert {q["category"]: q["waiting"] for q in queues}["guotu"] == 1  # one ticket: the one on screen
    finally:
        serve.stop()


@pytest.mark.timeout(240)
def test_printer_out_of_paper_and_a_full_category_show_their_messages(
    kivy_installed: None, start_hall: Callable[..., RunningServer], fake_printer: FakePrinter, tmp_path: Path
) -> None:
    server = start_hall(with_cap(with_printer(demo_config(), fake_printer.port), "sifa", 1))
    issue(server, "sifa", "the-only-one")
    fake_printer.paper_out()
    steps = [
        ["wait_live"], ["wait_text", "打印纸用完"],
        ["tap", "司法信访"], ["wait_screen", "category"], ["tap", "不确定办哪一项？直接取号"],
        ["wait_screen", "error"], ["shot", "kiosk-error-category-full"], ["tap", "首页"],
        ["tap", "劳保医保"], ["wait_screen", "category"], ["take", "不确定办哪一项？直接取号"],
        ["wait_print", "waiting"], ["shot", "kiosk-ticket-paper-out"],
    ]  # fmt: skip
    run = run_kiosk(server, tmp_path, steps)
    check_screens(run)
    full = run.shot("kiosk-error-category-full")["texts"]
    assert "今日司法信访号已取完" in full
    assert "该类业务每日限1个号。请下一个工作日再来，或到综合受理窗口咨询。" in full
    ticket = run.shot("kiosk-ticket-paper-out")
    number = server_number(server, run.result["track_url"])
    assert number == "E001" and number in ticket["texts"]
    assert "打印纸用完，凭条暂时无法打印。号码已生效：请记住号码或扫描二维码" in ticket["texts"]
    assert "打印纸用完：号码仍会显示在屏幕上" in ticket["texts"]
    assert qr_on_screen(ticket["png"]) == [run.result["track_url"]]  # the ticket still counts, and can be followed
    assert fake_printer.jobs() == []


@pytest.mark.timeout(240)
def test_the_procedure_on_the_item_screen_breaks_lines_by_the_rules_of_printed_chinese(
    kivy_installed: None, start_hall: Callable[..., RunningServer], fake_printer: FakePrinter, tmp_path: Path
) -> None:
    """最低生活保障申请: Kivy alone put "；" by itself on a line of its 办理程序 (and 公示7天 before it)."""
    server = start_hall(with_printer(demo_config(), fake_printer.port))
    steps = [
        ["wait_live"], ["tap", "民政民宗"], ["wait_screen", "category"], ["tap", "最低生活保障申请"],
        ["wait_screen", "item"], ["shot", "kiosk-item-line-breaking"],
    ]  # fmt: skip
    run = run_kiosk(server, tmp_path, steps)
    check_screens(run)
    item = demo_config().hall(HALL).item("minzheng-dibao")
    procedure = "\n".join(f"{n}．{step}" for n, step in enumerate(item.procedure, 1))
    laid_out = dict((text, lines) for text, lines in run.shot("kiosk-item-line-breaking")["lines"])
    lines = laid_out[procedure]
    assert len(lines) > len(item.procedure)  # some steps do wrap at this width
    assert "".join(lines) == procedure.replace("\n", "")  # nothing lost, nothing added
    for text, wrapped in laid_out.items():
        for before, line in itertools.pairwise(wrapped):
            assert line[:1] not in NO_LINE_START, f"{text!r}: a line starts with {line[:1]!r}: {line!r}"
            assert before[-1:] not in NO_LINE_END, f"{text!r}: a line ends with {before[-1:]!r}: {before!r}"


@pytest.mark.timeout(240)
def test_landscape_screens_fit(
    kivy_installed: None, start_hall: Callable[..., RunningServer], fake_printer: FakePrinter, tmp_path: Path
) -> None:
    server = start_hall(with_printer(demo_config(), fake_printer.port))
    steps = [
        ["wait_live"], ["shot", "kiosk-landscape-home"],
        ["tap", "国土建设"], ["wait_screen", "category"], ["shot", "kiosk-landscape-category"],
        ["tap", "农村宅基地申请"], ["wait_screen", "item"], ["shot", "kiosk-landscape-item"],
        ["take", "取 号"], ["wait_print", "done"], ["shot", "kiosk-landscape-ticket"],
        ["tap", "完 成"], ["wait_screen", "home"], ["tap", "预约签到"], ["wait_screen", "checkin"],
        *type_code("K7MP2QXA"), ["shot", "kiosk-checkin-landscape"],
    ]  # fmt: skip
    run = run_kiosk(server, tmp_path, steps, size=(1920, 1080))
    check_screens(run, (1920, 1080))
    ticket = run.shot("kiosk-landscape-ticket")
    assert qr_on_screen(ticket["png"]) == [run.result["track_url"]]
    assert server_number(server, run.result["track_url"]) == "B001"
