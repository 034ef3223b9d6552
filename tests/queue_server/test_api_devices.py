"""GET /api/v1/halls/{hall}/devices/me: a kiosk reads its own settings with its device token."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from config.schema import HallConfig, KioskDevice, PrinterDevice
from tests.support.server import RunningServer

if TYPE_CHECKING:
    from tests.queue_server.conftest import Api

ME = "/devices/me"


def test_a_kiosk_gets_its_device_its_printer_and_the_hall_facts_it_prints(api: Api) -> None:
    answer = api.http.get(ME, headers=api.bearer(api.kiosk))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"device", "printer", "hall"}
    assert body["device"] == {
        "kind": "kiosk", "id": "kiosk-1", "name": "大厅入口取号机", "printer": "printer-1", "id_reader": None,
    }  # fmt: skip
    printer = PrinterDevice.model_validate(body["printer"])  # the client parses it with the same schema
    assert (printer.id, printer.transport.value, printer.paper_mm, printer.text_mode) == (
        "printer-1", "virtual", 80, "raster",
    )  # fmt: skip
    assert body["hall"] == {
        "id": "qingshan",
        "timezone": "Asia/Shanghai",
        "public_url": None,
        "queue": {
            "priority_streak_max": 2,
            "recall_limit": 3,
            "no_show_after_s": 120,
            "no_show_requeue_behind": 3,
            "pause_alert_minutes": 15,
            "service_target_minutes": 15,
        },
        "id_card": {"senior_age": 60, "one_open_per_category": True},
    }
    # Nothing secret: the token is not echoed, no other device or staff member is named.
    assert api.kiosk not in answer.text
    assert "board-hall" not in answer.text and "liuxia" not in answer.text


def test_without_a_token_or_with_an_unknown_one_it_is_401(api: Api) -> None:
    assert api.error(api.http.get(ME), 401, "unauthorized")
    assert api.error(api.http.get(ME, headers=api.bearer("bmd_not-a-real-token")), 401, "unauthorized")
    assert api.error(api.http.get(ME, headers={"Authorization": "Basic a2lvc2s="}), 401, "unauthorized")


def test_a_staff_login_is_refused_with_403(api: Api) -> None:
    message = api.error(api.http.get(ME, headers=api.bearer(api.manager)), 403, "forbidden")
    assert "kiosk device token" in message


def test_a_device_of_another_hall_or_not_configured_as_a_kiosk_is_refused_with_403(api: Api) -> None:
    elsewhere = api.server.add_device("kiosk-1", hall="another-hall")
    assert "not a kiosk of hall qingshan" in api.error(api.http.get(ME, headers=api.bearer(elsewhere)), 403)
    unknown_kiosk = api.server.add_device("kiosk-9")  # registered, but the hall's configuration has no kiosk-9
    assert "kiosk-9 is not a kiosk" in api.error(api.http.get(ME, headers=api.bearer(unknown_kiosk)), 403)


def test_an_unknown_hall_is_404(api: Api) -> None:
    answer = api.http.get(f"{api.server.url}/api/v1/halls/nowhere/devices/me", headers=api.bearer(api.kiosk))
    api.error(answer, 404, "not_found")


def test_a_kiosk_without_a_printer_gets_none_and_the_public_url(
    start_hall: Callable[..., RunningServer], make_api: Callable[[RunningServer], Api], hall_config: HallConfig
) -> None:
    hall = hall_config.hall("qingshan")
    devices = [
        d.model_copy(update={"printer": None}) if isinstance(d, KioskDevice) else d
        for d in hall.devices
    ]  # fmt: skip
    changed = hall.model_copy(update={"devices": devices, "public_url": "https://bianmin.example.cn/"})
    api = make_api(start_hall(hall_config.model_copy(update={"halls": [changed]})))
    answer = api.http.get(ME, headers=api.bearer(api.kiosk))
    assert answer.status_code == 200, answer.text
    assert answer.json()["printer"] is None
    assert answer.json()["device"]["printer"] is None
    assert answer.json()["hall"]["public_url"] == "https://bianmin.example.cn/"


# --- an administrator revokes a device: refused from the answer on -----------------------------------------------


def test_a_revoked_kiosk_is_refused_from_the_next_request_on_and_the_revocation_is_audited(api: Api) -> None:
    root, director = api.staff("root", "admin"), api.staff("director", "manager")
    assert api.issue("jisheng")["number"] == "A001"  # the kiosk's token is cached now
    api.error(api.http.delete("/devices/kiosk-1", headers=api.bearer(director)), 403, "forbidden")
    api.error(api.http.delete("/devices/kiosk-7", headers=api.bearer(root)), 404, "not_found")
    assert api.issue("jisheng")["number"] == "A002"  # neither refusal revoked anything

    answer = api.http.delete("/devices/kiosk-1", headers=api.bearer(root))
    assert answer.status_code == 204, answer.text
    # At once, with no wait: this process dropped its cached device tokens before it answered.
    seq = api.seq()
    assert "设备未登记" in api.error(api.issue_raw({"category": "jisheng"}), 401, "unauthorized")
    api.error(api.http.get(ME, headers=api.bearer(api.kiosk)), 401, "unauthorized")
    assert api.seq() == seq

    entries = api.http.get("/staff-audit", headers=api.bearer(director)).json()["entries"]
    revoked = next(e for e in entries if e["action"] == "device.revoked")
    assert (revoked["actor"], revoked["subject"], revoked["halls"], revoked["action_zh"]) == (
        "root", "kiosk-1", ["qingshan"], "吊销设备"
    )  # fmt: skip


def test_a_token_read_while_it_was_revoked_is_not_cached_over_the_revocation() -> None:
    from queue_server.services.accounts import Device, DeviceCache

    cache = DeviceCache()
    generation = cache.generation  # a request starts reading the token (still valid in the database) …
    cache.clear()  # … a revocation commits meanwhile and clears the cache …
    cache.put("bmd_token", Device("qingshan", "kiosk-1"), generation)  # … and the read comes back
    assert cache.get("bmd_token") == (False, None)  # not cached: the next request reads the revocation
    cache.put("bmd_token", Device("qingshan", "kiosk-1"), cache.generation)
    assert cache.get("bmd_token") == (True, Device("qingshan", "kiosk-1"))
