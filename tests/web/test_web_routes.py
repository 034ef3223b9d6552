"""The web boards' routes without a browser: pages, assets, the bundled font, the clock, a window's next numbers."""

from __future__ import annotations

import datetime as dt
import json
import re
import struct
from pathlib import Path
from typing import Any

import httpx
import pytest

from config.fonts import cjk_font_path
from queue_server.api.routes_web import sfnt_face
from tests.support.server import HALL
from tests.web import conftest as web_conftest
from tests.web.conftest import LiveHall


@pytest.fixture
def hall(shared_hall: LiveHall) -> LiveHall:
    """One server for this module: starting one per test would cost more than the tests."""
    return shared_hall


def get(hall: LiveHall, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.get(f"{hall.url}{path}", timeout=10, trust_env=False, **kwargs)


def page_config(html: str) -> dict[str, Any]:
    match = re.search(r'<script id="bianmin-config" type="application/json">(.*?)</script>', html, re.S)
    assert match, html[:500]
    config: dict[str, Any] = json.loads(match.group(1))
    return config


def error_code(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])


def test_the_hall_board_page_carries_the_halls_public_configuration(hall: LiveHall) -> None:
    response = get(hall, f"/board/{HALL}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    config = page_config(response.text)
    assert config["kind"] == "hall" and config["hall"] == HALL and config["sound"] is True
    assert config["name_zh"] == "青山镇便民服务中心"
    assert config["supervision_phone"] == "0731-8562 3119"
    assert config["ws_path"] == f"/ws/halls/{HALL}/board"
    assert [w["number"] for w in config["windows"]] == list(range(1, 11))
    assert config["notice"] is None and config["page_seconds"] == 8  # the demo hall has no announcements
    assert set(config["windows"][0]) == {"number", "name_zh", "name_en", "categories"}  # no clerks' usernames
    assert dt.datetime.fromisoformat(config["server_now"]).date() == dt.date(2026, 3, 16)  # the store's clock
    # Assets are versioned by their content, so a TV never runs a stale script.
    version = re.search(r"/web/board\.js\?v=([0-9a-f]{12})", response.text)
    assert version and f"/web/board.css?v={version.group(1)}" in response.text
    assert "__CONFIG__" not in response.text and "https://" not in response.text  # no CDN


def test_the_window_board_page_is_silent_by_default(hall: LiveHall) -> None:
    config = page_config(get(hall, f"/board/{HALL}/window/3").text)
    assert config["kind"] == "window" and config["window"] == 3 and config["sound"] is False
    assert config["upcoming_path"] == f"/api/v1/halls/{HALL}/windows/3/upcoming"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/board/nohall", 404),
        ("/board/nohall/window/1", 404),
        (f"/board/{HALL}/window/11", 404),
        (f"/board/{HALL}?board=nope", 404),
        (f"/board/{HALL}?board=board-w1", 404),  # a window board: it has no notice zone
        (f"/board/{HALL}?board=Not%20an%20id", 422),
        (f"/board/{HALL}/window/0", 422),
        (f"/board/{HALL}/window/x", 422),
        ("/web/app.py", 404),
        ("/web/..%2Fweb%2Fhall.html", 404),
        ("/web/hall.html", 404),  # pages only through /board (they need their configuration)
        (f"/api/v1/halls/{HALL}/windows/11/upcoming", 404),
        ("/api/v1/halls/nohall/time", 404),
    ],
)
def test_what_is_not_there_is_a_clear_error(hall: LiveHall, path: str, status: int) -> None:
    response = get(hall, path)
    assert response.status_code == status, response.text
    assert error_code(response)


def test_board_redirects_to_the_first_halls_board(hall: LiveHall) -> None:
    response = get(hall, "/board")
    assert response.status_code == 307
    assert response.headers["location"] == f"/board/{HALL}"


def test_the_script_and_style_are_served_from_the_package(hall: LiveHall) -> None:
    script = get(hall, "/web/board.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert "window.bianminBoard" in script.text
    style = get(hall, "/web/board.css")
    assert style.status_code == 200 and style.headers["content-type"].startswith("text/css")
    assert '"Microsoft YaHei", "WenQuanYi Micro Hei", "Noto Sans CJK SC"' in style.text


def test_the_bundled_font_is_served_as_one_aligned_truetype_face(hall: LiveHall) -> None:
    response = get(hall, "/web/fonts/wqy-microhei.ttf")
    assert response.status_code == 200 and response.headers["content-type"] == "font/ttf"
    font = response.content
    assert font == sfnt_face(cjk_font_path().read_bytes(), 0)
    version, count = struct.unpack_from(">IH", font)
    assert version == 0x00010000
    tags = []
    for i in range(count):
        tag, _checksum, offset, length = struct.unpack_from(">4sIII", font, 12 + 16 * i)
        tags.append(tag)
        assert offset % 4 == 0 and offset + length <= len(font), tag
    assert tags == sorted(tags) and b"glyf" in tags and b"cmap" in tags and b"FFTM" not in tags
    assert sum(struct.unpack(f">{len(font) // 4}I", font)) & 0xFFFFFFFF == 0xB1B0AFBA  # the font's checksum
    with pytest.raises(ValueError, match="not a TrueType collection"):
        sfnt_face(font)


def test_the_time_is_the_servers_clock(hall: LiveHall) -> None:
    body = get(hall, f"/api/v1/halls/{HALL}/time").json()
    assert body["timezone"] == "Asia/Shanghai"
    now = dt.datetime.fromisoformat(body["now"])
    assert abs(now - hall.clock()) < dt.timedelta(seconds=5)


def test_a_windows_next_numbers_are_public_in_call_order(hall: LiveHall) -> None:
    clerk = hall.open(3, "wangfang")
    hall.issue("caizheng")
    minzheng = hall.issue("minzheng", 3)
    hall.issue("guotu")  # window 3 does not serve 国土建设
    body = get(hall, f"/api/v1/halls/{HALL}/windows/3/upcoming", params={"limit": 3}).json()
    assert body["window"] == 3 and body["waiting"] == 4
    assert body["numbers"] == minzheng  # 民政民宗 first: window 3's categories in order
    hall.call_next(clerk, 3)
    after = get(hall, f"/api/v1/halls/{HALL}/windows/3/upcoming").json()
    assert after["numbers"] == [*minzheng[1:], "F001"] and after["seq"] > body["seq"]
    response = get(hall, f"/api/v1/halls/{HALL}/windows/3/upcoming", params={"limit": 0})
    assert response.status_code == 422


def test_browser_tests_skip_without_a_browser_but_fail_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web_conftest, "CHROMIUM", Path("/nonexistent/chromium"))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="chromium is missing"):
        web_conftest.require_browser()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        web_conftest.require_browser()
