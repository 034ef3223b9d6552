"""The wall's device panel: whether each LED strip and caller keypad is connected to `bianmin devices`.

`bianmin devices` reports each device's link (POST /api/v1/halls/{hall}/devices/me/status with the
device's token) when it changes and every 30 s. The server keeps the last report in memory: a device
never reported is `unknown`; one whose last report is older than STALE_AFTER_S is `stale` (the bridge
itself stopped, or lost the server), whatever that report said.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from config.schema import WINDOW_DEVICES, Hall

STALE_AFTER_S = 90.0  # three missed 30-second reports

LinkState = Literal["connected", "disconnected", "stale", "unknown"]
_ZH = {"connected": "已连接", "disconnected": "已断开", "stale": "无报告", "unknown": "未报告"}


class DeviceLink(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    kind: Literal["led_strip", "caller"]
    name: str
    window: int
    state: LinkState
    state_zh: str
    detail: str  # the bridge's words on a failure ("connection refused"), never a secret
    reported_ago_s: int | None


def device_links(hall: Hall, reports: Mapping[tuple[str, str], tuple[Any, float]], now: float) -> list[DeviceLink]:
    """Every LED strip and caller of the hall, in the configuration's order, with its last reported link."""
    found = []
    for device in hall.devices:
        if not isinstance(device, WINDOW_DEVICES):
            continue
        report, at = reports.get((hall.id, device.id), (None, None))
        state: LinkState = "unknown"
        detail, ago = "", None
        if report is not None and at is not None:
            ago = max(0, int(now - at))
            state = "stale" if now - at > STALE_AFTER_S else report.link
            detail = report.detail
        found.append(DeviceLink(id=device.id, kind=device.kind, name=device.name, window=device.window,
                                state=state, state_zh=_ZH[state], detail=detail, reported_ago_s=ago))  # fmt: skip
    return found
