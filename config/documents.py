"""The county's documents (联动下发): the service-item catalogue and the working-day calendar, as versioned TOML.

A county renders each document from its validated configuration, canonically (the same content gives the same
bytes), and numbers its versions. A township keeps the documents it runs in its link's documents folder, named
by `file_name`: the loader reads them with the hall's own files, and they are checked exactly like the rest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field

from config.schema import CalendarYear, ServiceItem, Slug, Strict

Kind = Literal["catalogue", "calendar"]
KINDS: tuple[Kind, ...] = ("catalogue", "calendar")
LABELS = {"catalogue": "服务事项目录 service-item catalogue", "calendar": "工作日历 working-day calendar"}
MAX_VERSION = 2**31 - 1
MAX_BYTES = 4 * 1024 * 1024  # of one document: the 91 items of a township are about 150 KB
#: The top-level keys of a document besides [document]: its items, or its years.
BODY_KEY: dict[Kind, str] = {"catalogue": "items", "calendar": "years"}
BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


class Header(Strict):
    """The `[document]` table that opens every county document."""

    kind: Kind
    version: int = Field(ge=1, le=MAX_VERSION)
    county: Slug | None = None
    published_at: dt.datetime | None = None


def file_name(kind: Kind, hall: str, version: int | None = None) -> str:
    """The document's file in the documents folder: the one a hall runs (no version), or a fetched version.

    A catalogue is a hall's (categories differ between halls); the calendar is the whole configuration's.
    """
    stem = "calendar" if kind == "calendar" else f"{hall}-catalogue"
    return f"{stem}.toml" if version is None else f"{stem}-v{version}.toml"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def catalogue_content(items: Sequence[ServiceItem]) -> str:
    """The catalogue's items as canonical TOML (no header): what a version's content digest is taken of."""
    return dumps({"items": [item.model_dump(mode="python", exclude_defaults=True) for item in items]})


def calendar_content(years: Sequence[CalendarYear]) -> str:
    ordered = sorted(years, key=lambda year: year.year)
    return dumps({"years": [year.model_dump(mode="python") for year in ordered]})


def render(kind: Kind, version: int, content: str, county: str | None, published_at: dt.datetime) -> str:
    """A whole document: a comment, the [document] header, then the content."""
    header: dict[str, Any] = {"kind": kind, "version": version}
    if county is not None:
        header["county"] = county
    header["published_at"] = published_at.replace(microsecond=0)
    comment = (
        f"# {LABELS[kind]}, version {version}, published by the county (县级下发).\n"
        "# Do not edit: the next version replaces this file. Local items go in the hall's own catalog files.\n"
    )
    return comment + dumps({"document": header}) + "\n" + content


# -- a small canonical TOML writer (the standard library reads TOML but does not write it) ----------------------


def dumps(data: Mapping[str, Any]) -> str:
    """TOML text of plain data: scalars and inline lists first, then tables, then arrays of tables."""
    lines: list[str] = []
    _table(lines, (), data)
    return "\n".join(lines).strip("\n") + "\n"


def _table(lines: list[str], path: tuple[str, ...], table: Mapping[str, Any]) -> None:
    tables = {k: v for k, v in table.items() if isinstance(v, Mapping)}
    arrays = {k: v for k, v in table.items() if _table_array(v)}
    for key, value in table.items():
        if key not in tables and key not in arrays and value is not None:
            lines.append(f"{_key(key)} = {_value(value)}")
    for key, value in tables.items():
        lines += ["", f"[{'.'.join(_key(k) for k in (*path, key))}]"]
        _table(lines, (*path, key), value)
    for key, values in arrays.items():
        for value in values:
            lines += ["", f"[[{'.'.join(_key(k) for k in (*path, key))}]]"]
            _table(lines, (*path, key), value)


def _table_array(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _key(key: str) -> str:
    return key if BARE_KEY.match(key) else _string(key)


def _string(text: str) -> str:
    # JSON's escapes are TOML's basic-string escapes; TOML also wants DEL escaped.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Decimal):
        return _string(str(value))  # exact: a float would round amounts in yuan
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items() if v is not None) + " }"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


Version = Annotated[int, Field(ge=1, le=MAX_VERSION)]
