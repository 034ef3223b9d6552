"""Cross-reference checks: unique ids, references that resolve, sessions in order, holidays in their year."""

from __future__ import annotations

import dataclasses
import itertools
import re
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from config import schema
from config.contrast import MIN_TEXT_CONTRAST, white_text_ratio
from config.locate import FieldPath
from config.messages import did_you_mean, format_path, show

if TYPE_CHECKING:
    from config.loader import CalendarFile, DocumentFile, ItemFile, Source

    Report = Callable[[Source, FieldPath, str], None]

M = TypeVar("M")

CATEGORIES = TypeAdapter(schema.Category)
WINDOWS = TypeAdapter(schema.Window)
DEVICES = TypeAdapter(schema.Device)
SESSIONS = TypeAdapter(schema.Session)
ITEMS = TypeAdapter(schema.ServiceItem)
HOLIDAYS = TypeAdapter(schema.Holiday)
POINTS = TypeAdapter(schema.AgentPoint)


def cross_check(
    report: Report,
    main: Source,
    halls: list[tuple[int, dict[str, Any]]],
    catalogs: dict[int, list[ItemFile]],
    calendars: list[CalendarFile],
    county: Mapping[int, DocumentFile] | None = None,
) -> None:
    """Report what no table shows by itself; each table valid on its own is checked, so one typo hides nothing else.

    `county`: the county's catalogue a hall runs (its items take the place of the hall's own of the same id).
    """
    checks = _Checks(report)
    for index, hall in halls:
        document = (county or {}).get(index)
        checks.hall(main, index, hall, catalogs[index], document.items if document is not None else None)
    checks.unique([(main, ("halls", index, "id"), hall.get("id")) for index, hall in halls], "hall id")
    checks.calendars(calendars)


def tables(data: object) -> list[tuple[int, dict[str, Any]]]:
    """The tables of a list, with their indexes; anything else in it is left out."""
    elements = data if isinstance(data, list) else []
    return [(index, table) for index, table in enumerate(elements) if isinstance(table, dict)]


class _Checks:
    """The cross-reference checks, each problem found handed to report."""

    def __init__(self, report: Report) -> None:
        self.report = report

    def unique(self, entries: Iterable[tuple[Source, FieldPath, object]], what: str) -> None:
        """Every value given once; a repeat names where the value was first used."""
        first: dict[object, tuple[Source, FieldPath]] = {}
        for source, path, value in entries:
            if value is None or isinstance(value, list | dict):
                continue
            if value not in first:
                first[value] = (source, path)
                continue
            where = _where(*first[value], here=source)
            self.report(source, path, f"{what} {show(value)} is already used {where}; each must be different")

    def hall(
        self, source: Source, h: int, hall: dict[str, Any], catalog: list[ItemFile], county: ItemFile | None
    ) -> None:
        name = f'hall "{hall.get("id")}"'
        categories = _valid(CATEGORIES, hall.get("categories"))
        windows = _valid(WINDOWS, hall.get("windows"))
        # References are checked against the raw tables too, so one bad table does not cause a second error.
        codes = _raw_values(hall.get("categories"), "code")
        numbers = _raw_values(hall.get("windows"), "number")
        served = {code for _, window in tables(hall.get("windows")) for code in _strings(window.get("categories"))}

        at = ("halls", h)
        self.unique([(source, (*at, "categories", i, "code"), c.code) for i, c in categories], "category code")
        self.unique(
            [(source, (*at, "categories", i, "prefix"), c.prefix) for i, c in categories], "prefix letter (票号字母)"
        )
        for i, category in categories:
            # Kiosk and board tiles write white text on the colour. Checked here, not in the schema: a kiosk
            # or board rebuilding the hall from a server's answer must not refuse an older configuration.
            if (contrast := white_text_ratio(category.colour)) < MIN_TEXT_CONTRAST:
                self.report(
                    source,
                    (*at, "categories", i, "colour"),
                    f"white text on {category.colour} has a contrast of {contrast:.2f}:1, below "
                    f"{MIN_TEXT_CONTRAST}:1; choose a darker colour",
                )
            if category.code not in served:
                self.report(
                    source,
                    (*at, "categories", i, "code"),
                    f'no window serves category "{category.code}" ({category.name_zh}); '
                    "add it to some window's categories, or its tickets are never called",
                )
        self.unique([(source, (*at, "windows", i, "number"), w.number) for i, w in windows], "window number")
        for i, window in windows:
            for k, code in enumerate(window.categories):
                if code not in codes:
                    self.report(
                        source,
                        (*at, "windows", i, "categories", k),
                        f'window {window.number} serves category "{code}", which {name} does not have'
                        + did_you_mean(code, codes),
                    )
        points = _valid(POINTS, hall.get("agent_points"))
        self.unique([(source, (*at, "agent_points", i, "id"), p.id) for i, p in points], "agent point id (代办点)")
        self.devices(source, h, name, hall, numbers)
        self.sessions(source, h, _valid(SESSIONS, hall.get("sessions")))
        self.timezone(source, h, hall.get("timezone"))
        self.items(source, h, name, hall, catalog, codes, county)

    def devices(self, source: Source, h: int, name: str, hall: dict[str, Any], numbers: set[object]) -> None:
        devices = _valid(DEVICES, hall.get("devices"))
        kinds = {device.get("id"): device.get("kind") for _, device in tables(hall.get("devices"))}
        printers = {device for device, kind in kinds.items() if kind == "printer"}
        at = ("halls", h, "devices")
        self.unique([(source, (*at, i, "id"), device.id) for i, device in devices], "device id")
        for i, device in devices:
            if isinstance(device, schema.KioskDevice) and device.printer and device.printer not in printers:
                if device.printer in kinds:
                    problem = f"a {kinds[device.printer]}, not a printer"
                else:
                    problem = f"not a device of {name}" + did_you_mean(device.printer, printers)
                message = f'kiosk "{device.id}" prints on "{device.printer}", which is {problem}'
                self.report(source, (*at, i, "printer"), message)
            if isinstance(device, (*schema.WINDOW_DEVICES, schema.PadDevice)) and device.window not in numbers:
                known = ", ".join(str(number) for number in sorted(n for n in numbers if isinstance(n, int)))
                message = f'{device.kind} "{device.id}" is at window {device.window}, which {name} does not have'
                self.report(source, (*at, i, "window"), f"{message} (windows: {known})")
            if isinstance(device, schema.BoardDevice) and device.window is not None and device.window not in numbers:
                known = ", ".join(str(number) for number in sorted(n for n in numbers if isinstance(n, int)))
                message = (
                    f'board "{device.id}" shows window {device.window}, which {name} does not have (windows: {known})'
                )
                self.report(source, (*at, i, "window"), message)

    def sessions(self, source: Source, h: int, sessions: list[tuple[int, schema.Session]]) -> None:
        for (_, before), (i, session) in itertools.pairwise(sessions):
            span, before_span = f"{session.start}–{session.end}", f"{before.start}–{before.end}"
            if session.start < before.start:
                message = f"session {span} is listed after {before_span}; list the sessions in order of time"
            elif session.start < before.end:
                message = f"session {span} overlaps the session before it, {before_span}"
            else:
                continue
            self.report(source, ("halls", h, "sessions", i), message)

    def timezone(self, source: Source, h: int, timezone: object) -> None:
        if not isinstance(timezone, str):
            return
        try:
            zoneinfo.ZoneInfo(timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            self.report(
                source,
                ("halls", h, "timezone"),
                f'unknown time zone "{timezone}"; expected a zone name such as "Asia/Shanghai"',
            )

    def items(
        self,
        source: Source,
        h: int,
        name: str,
        hall: dict[str, Any],
        catalog: list[ItemFile],
        codes: set[object],
        county: ItemFile | None = None,
    ) -> None:
        """Items given in the main file, in the hall's catalogue files and in the county's catalogue: known
        categories, distinct ids (a local item of an id the county's catalogue has gives way to the county's)."""
        entries: list[tuple[Source, FieldPath, schema.ServiceItem, bool]] = [
            (source, ("halls", h, "items", i), item, False) for i, item in _valid(ITEMS, hall.get("items"))
        ]
        if county is not None:
            ids = {item.id for _, item in county.items}
            entries = [entry for entry in entries if entry[2].id not in ids]
            catalog = [_without(file, ids) for file in catalog]
            catalog.append(county)
        for file in catalog:
            entries += [(file.source, ("items", i), item, i in file.defaulted) for i, item in file.items]
            default = file.default_category
            if file.defaulted and default and re.match(schema.ID_PATTERN, default) and default not in codes:
                self.report(
                    file.source,
                    ("category",),
                    f'default category "{default}" is not a category of {name}' + did_you_mean(default, codes),
                )
        for item_source, path, item, defaulted in entries:
            if not defaulted and item.category not in codes:
                self.report(
                    item_source,
                    (*path, "category"),
                    f'service item "{item.id}" is in category "{item.category}", which {name} does not have'
                    + did_you_mean(item.category, codes),
                )
        self.unique([(s, (*path, "id"), item.id) for s, path, item, _ in entries], "service item id")
        self.featured(source, h, name, hall, {item.id for _, _, item, _ in entries})

    def featured(self, source: Source, h: int, name: str, hall: dict[str, Any], ids: set[str]) -> None:
        """The items a hall board features (办事八公开 in its notice zone) are items of the hall."""
        board = hall.get("board")
        places: list[tuple[FieldPath, object]] = []
        if isinstance(board, dict):
            places.append((("halls", h, "board", "featured_items"), board.get("featured_items")))
        for i, device in tables(hall.get("devices")):
            places.append((("halls", h, "devices", i, "featured_items"), device.get("featured_items")))
        for path, featured in places:
            for k, item_id in enumerate(_strings(featured)):
                if item_id not in ids:
                    message = f'featured item "{item_id}" is not a service item of {name}'
                    self.report(source, (*path, k), message + did_you_mean(item_id, ids, listing=False))

    def calendars(self, calendars: list[CalendarFile]) -> None:
        self.unique([(c.source, (*c.at, "year"), c.data.get("year")) for c in calendars], "calendar year")
        for calendar in calendars:
            source, year, at = calendar.source, calendar.data.get("year"), calendar.at
            if not isinstance(year, int) or isinstance(year, bool):
                continue
            stem = source.file.stem
            if not at and stem.isdigit() and stem != str(year):  # a copied file whose year was not edited
                self.report(
                    source,
                    ("year",),
                    f"this file gives the holidays of {year} but is named {stem}; name it {year}.toml",
                )
            holidays = _valid(HOLIDAYS, calendar.data.get("holidays"))
            for i, holiday in holidays:
                for key, day in (("start", holiday.start), ("end", holiday.end)):
                    if not _in_year(day, year):
                        self.report(source, (*at, "holidays", i, key), f"{day} is not in {year}, the year of this file")
                for k, day in enumerate(holiday.makeup_workdays):
                    path = (*at, "holidays", i, "makeup_workdays", k)
                    makeup = f"make-up workday (调休上班日) {day}"
                    if not _in_year(day, year):
                        self.report(source, path, f"{makeup} is not in {year}, the year of this file")
                    elif day.weekday() < 5:
                        self.report(
                            source,
                            path,
                            f"{makeup} is a {day:%A}; "
                            "a make-up workday is a Saturday or Sunday worked in exchange for a holiday",
                        )
                    for _, other in holidays:
                        if other.start <= day <= other.end:
                            self.report(
                                source,
                                path,
                                f"{makeup} falls inside the holiday {other.name_zh} ({other.start} to {other.end})",
                            )


def _without(file: ItemFile, ids: set[str]) -> ItemFile:
    """A catalogue file without the items of these ids."""
    kept = [(i, item) for i, item in file.items if item.id not in ids]
    return dataclasses.replace(file, items=kept, defaulted=file.defaulted & {i for i, _ in kept})


def _where(source: Source, path: FieldPath, here: Source) -> str:
    """Where a value was given: "by halls[0].windows[2] (line 142)", "by items[2] in items/a.toml:12"."""
    owner, line = format_path(path[:-1]), source.line(path)
    if source is here:
        return f"by {owner} (line {line})"
    place = f"{source.file}:{line}" if line else str(source.file)
    return f"by {owner} in {place}" if owner else f"in {place}"


def _valid(adapter: TypeAdapter[M], data: object) -> list[tuple[int, M]]:
    """The tables of a list that are valid on their own, with their indexes."""
    valid: list[tuple[int, M]] = []
    for index, element in enumerate(data if isinstance(data, list) else []):
        try:
            valid.append((index, adapter.validate_python(element)))
        except ValidationError:
            continue
    return valid


def _raw_values(data: object, key: str) -> set[object]:
    """The values given for key in a list of tables, valid or not."""
    return {table[key] for _, table in tables(data) if key in table and not isinstance(table[key], list | dict)}


def _strings(data: object) -> list[str]:
    return [value for value in data if isinstance(value, str)] if isinstance(data, list) else []


def _in_year(day: date, year: int) -> bool:
    # A year's State Council notice may start New Year's Day, or put its make-up day, in the last days
    # of the December before: 元旦 2024 ran from 2023-12-30, and 2012's make-up day was 2011-12-31.
    return day.year == year or (day.year == year - 1 and day.month == 12 and day.day >= 25)
