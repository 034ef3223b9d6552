"""The bridge's configuration: which device on which port for which window, with which token (a TOML file).

Validated before anything starts: a bad file gives one line per problem (the field's path and what was
expected) and `bianmin devices` exits. Example in docs/devices.md.
"""

from __future__ import annotations

import string
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from queue_server.devices.protocol import PROTOCOLS

ACTIONS = ("call_next", "recall", "start", "finish", "pause", "resume")
DEFAULT_KEYS = {"1": "call_next", "2": "recall", "3": "start", "4": "finish", "5": "pause", "6": "resume"}
FIELDS = {"number", "window", "window_name"}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Tcp(Strict):
    """A device on the LAN (or a serial-to-Ethernet converter): the bridge connects to host:port."""

    type: Literal["tcp"]
    host: Annotated[str, Field(min_length=1, max_length=253)]
    port: int = Field(ge=1, le=65535)


class Serial(Strict):
    """A device on a serial port; RS485 through a USB adapter is a serial port too (e.g. /dev/ttyUSB0)."""

    type: Literal["serial"]
    port: Annotated[str, Field(min_length=1, max_length=200)]
    baudrate: int = Field(9600, ge=1200, le=921600)
    bytesize: Literal[7, 8] = 8
    parity: Literal["N", "E", "O"] = "N"
    stopbits: Literal[1, 2] = 1


Transport = Annotated[Tcp | Serial, Field(discriminator="type")]


class Base(Strict):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,47}$")]
    window: int = Field(ge=1, le=999)
    token_file: Path = Field(description="the device's token from `bianmin device add HALL ID`, in a file (chmod 600)")
    transport: Transport
    protocol: str = "bianmin-text"
    encoding: Literal["gb18030", "gb2312"] = "gb18030"

    @model_validator(mode="after")
    def _known_protocol(self) -> Base:
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"unknown protocol {self.protocol!r}; known: {', '.join(sorted(PROTOCOLS))}")
        return self


class StripSettings(Base):
    """A window LED strip (条屏)."""

    kind: Literal["led_strip"]
    text: Annotated[str, Field(min_length=1, max_length=100)] = "请{number}号到{window}号窗口"
    idle_text: Annotated[str, Field(max_length=100)] = "{window}号窗口"

    @field_validator("text", "idle_text")
    @classmethod
    def _template(cls, template: str, info: ValidationInfo) -> str:
        used = {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}
        if used - FIELDS:
            wrong = sorted(used - FIELDS)
            raise ValueError(f"{info.field_name} may use {{number}}, {{window}} and {{window_name}}, not {wrong}")
        encoding = info.data.get("encoding", "gb18030")
        try:
            template.format(number="A001", window=1, window_name="").encode(encoding)
        except UnicodeEncodeError as error:
            bad = error.object[error.start]
            raise ValueError(f"{info.field_name} has {bad!r}, which {encoding} cannot encode") from None
        return template


class CallerSettings(Base):
    """A caller keypad (呼叫器): each key name the keypad sends, mapped to a window action.

    `finish` finishes the visit as 即办件 (done on the spot): the other case classes need details (the
    promised days, the missing materials …) that only the clerk console can take.
    """

    kind: Literal["caller"]
    keys: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9]{1,8}$")], Literal[ACTIONS]] = DEFAULT_KEYS  # type: ignore[valid-type]
    pause_reason: Annotated[str, Field(min_length=1, max_length=200)] = "暂停（呼叫器）"


Device = Annotated[StripSettings | CallerSettings, Field(discriminator="kind")]


class Timing(Strict):
    heartbeat_s: float = Field(5.0, gt=0, le=300, description="a PING to each device when nothing else was sent")
    ack_timeout_s: float = Field(
        2.0, gt=0, le=60, description="a frame not acknowledged in this time: the link is down"
    )
    connect_timeout_s: float = Field(3.0, gt=0, le=60)
    backoff_initial_s: float = Field(0.5, gt=0, le=60)
    backoff_max_s: float = Field(30.0, gt=0, le=600)
    report_interval_s: float = Field(30.0, gt=0, le=600, description="each device's link is reported this often")
    http_timeout_s: float = Field(5.0, gt=0, le=60)


class BridgeSettings(Strict):
    server: Annotated[str, Field(pattern=r"^https?://\S+$")]
    hall: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,47}$")]
    timing: Timing = Timing()
    devices: list[Device] = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct(self) -> BridgeSettings:
        problems = []
        seen: dict[object, str] = {}
        for device in self.devices:
            for key in (("id", device.id), ("transport", device.transport)):
                if key in seen:
                    what = "id" if key[0] == "id" else "transport (port)"
                    problems.append(f"{device.id} has the same {what} as {seen[key]}")
                seen.setdefault(key, device.id)
        if problems:
            raise ValueError("; ".join(problems))
        return self


class SettingsError(Exception):
    """A bridge configuration that cannot be used; its message has one line per problem."""


def load_settings(path: Path) -> BridgeSettings:
    """The bridge's settings from a TOML file, with token files checked; SettingsError says what is wrong."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SettingsError(f"{path}: cannot read it: {error.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise SettingsError(f"{path}: not valid TOML: {error}") from None
    try:
        settings = BridgeSettings.model_validate(data)
    except ValidationError as error:
        lines = [f"{path}: {_where(e['loc'])}: {e['msg'].removeprefix('Value error, ')}" for e in error.errors()]
        raise SettingsError("\n".join(lines)) from None
    problems = []
    for i, device in enumerate(settings.devices):
        token_file = device.token_file if device.token_file.is_absolute() else path.parent / device.token_file
        try:
            empty = not token_file.read_text(encoding="utf-8").strip()
        except OSError as error:
            problems.append(f"{path}: devices[{i}].token_file: cannot read {token_file}: {error.strerror}")
            continue
        if empty:
            problems.append(f"{path}: devices[{i}].token_file: {token_file} is empty")
    if problems:
        raise SettingsError("\n".join(problems))
    return settings.model_copy(
        update={
            "devices": [d.model_copy(update={"token_file": _absolute(d.token_file, path)}) for d in settings.devices]
        }
    )


def _absolute(token_file: Path, config: Path) -> Path:
    return token_file if token_file.is_absolute() else config.parent / token_file


def _where(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part not in ("tcp", "serial", "led_strip", "caller"):  # the union's branch names say nothing
            text += f".{part}" if text else str(part)
    return text or "(top)"
