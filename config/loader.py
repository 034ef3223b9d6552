"""Load a hall configuration from TOML files: expand catalogue and calendar globs, validate, cross-check.

Every problem is collected, with its file, line and field path, before anything is refused, so a
hall administrator fixes a configuration in one round rather than one error per run. Each file is
validated on its own, so every schema error maps back to the file that holds it; the cross-reference
checks then look at every table that is valid by itself, so one typo does not hide another problem.
"""

from __future__ import annotations

import difflib
import glob
import itertools
import json
import os
import re
import tomllib
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from config import schema
from config.locate import FieldPath, Key, index_lines, locate

M = TypeVar("M")
Model = TypeVar("Model", bound=BaseModel)

BUNDLED_DIR = Path(__file__).parent
ITEM_FILE_KEYS = ("category", "items")

# What a field means to a hall administrator, with the hall's own word for it.
FIELD_LABELS = {
    "a_post": "an A-post clerk (A岗)",
    "b_post": "a B-post clerk (B岗)",
    "case_kind": "a case kind (即办件 immediate / 承诺件 promised)",
    "categories": "categories (业务类别)",
    "category": "a category (业务类别)",
    "code": "a category code (类别代码)",
    "conditions": "conditions (办事条件)",
    "department": "a handling department (经办科室)",
    "fee": "a fee (收费标准)",
    "legal_basis": "a legal basis (办事依据)",
    "materials": "required materials (申报材料)",
    "name_zh": "a Chinese name (中文名称)",
    "name_en": "an English name",
    "number": "a window number (窗口号)",
    "prefix": "a prefix letter (票号字母)",
    "procedure": "a procedure (办理程序)",
    "sessions": "opening sessions (办公时段)",
    "supervision_phone": "a supervision phone (监督电话)",
}
NOUNS: dict[type[BaseModel], str] = {
    schema.HallConfig: "main file",
    schema.Hall: "hall",
    schema.Session: "session",
    schema.QueueRules: "queue rules table",
    schema.Category: "category",
    schema.Window: "window",
    schema.Material: "material",
    schema.Fee: "fee table",
    schema.ServiceItem: "service item",
    schema.PrinterDevice: "printer",
    schema.KioskDevice: "kiosk",
    schema.BoardDevice: "board",
    schema.Holiday: "holiday",
    schema.CalendarYear: "calendar file",
}
PATTERN_HINTS = {
    schema.ID_PATTERN: 'an id of lower-case letters, digits, "-" and "_" (at most 48), e.g. "jisheng"',
    schema.PHONE_PATTERN: 'a phone number of digits, spaces, "+", "-" and brackets, e.g. "0731-8562 3100"',
    schema.COLOUR_PATTERN: 'a colour as "#" and six hex digits, e.g. "#2E7D32"',
    r"^[A-Z]$": 'one capital letter from A to Z, e.g. "A"',
    r"^https?://\S+$": 'a web address starting with http:// or https://, e.g. "http://192.168.1.10:8000"',
}
CATEGORIES = TypeAdapter(schema.Category)
WINDOWS = TypeAdapter(schema.Window)
DEVICES = TypeAdapter(schema.Device)
SESSIONS = TypeAdapter(schema.Session)
ITEMS = TypeAdapter(schema.ServiceItem)
HOLIDAYS = TypeAdapter(schema.Holiday)


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a configuration file, said for the hall administrator who has to fix it."""

    file: Path
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else str(self.file)
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ConfigError(Exception):
    """The configuration cannot be used; `problems` lists every reason found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join([f"{_count(len(self.problems))} in the configuration:", *map(str, self.problems)]))


def default_config_path() -> Path:
    """The main file of the demo hall shipped with Bianmin."""
    return BUNDLED_DIR / "default" / "hall.toml"


def load_config(path: Path) -> schema.HallConfig:
    """Read the main file at path and every file it names; raise ConfigError listing every problem found."""
    loader = _Loader()
    config = loader.load(Path(path))
    if loader.problems or config is None:
        raise ConfigError(loader.sorted_problems())
    return config


def format_path(path: Sequence[Key]) -> str:
    """("halls", 0, "windows", 2, "number") -> "halls[0].windows[2].number"."""
    text = ""
    for key in path:
        if isinstance(key, int):
            text += f"[{key}]"
        else:
            bare = key and all(char.isascii() and (char.isalnum() or char in "_-") for char in key)
            name = key if bare else json.dumps(key, ensure_ascii=False)
            text += f".{name}" if text else name
    return text


@dataclass
class _Source:
    """A file's text, and the lines of its fields (found when first asked)."""

    file: Path
    text: str = ""
    _lines: dict[FieldPath, int] | None = field(default=None, repr=False)

    def line(self, path: FieldPath) -> int | None:
        if self._lines is None:
            self._lines = index_lines(self.text)
        return locate(self._lines, path)


@dataclass
class _ItemFile:
    """A catalogue file: its valid items by index, and the indexes of those given the file's default category."""

    source: _Source
    default_category: str | None
    items: list[tuple[int, schema.ServiceItem]] = field(default_factory=list)
    defaulted: set[int] = field(default_factory=set)


@dataclass
class _CalendarFile:
    source: _Source
    data: dict[str, Any]
    year: schema.CalendarYear | None


class _Loader:
    """One loading run: reads each file once and collects the problems."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.item_files: dict[Path, _ItemFile | None] = {}
        self.files: list[Path] = []  # in the order they were named

    def report(self, source: _Source, path: FieldPath, message: str) -> None:
        self.problems.append(Problem(source.file, source.line(path), format_path(path), message))

    def sorted_problems(self) -> list[Problem]:
        """Each problem once, file by file in the order the files were named, top to bottom within a file."""
        unique = list(dict.fromkeys(self.problems))
        return sorted(unique, key=lambda problem: (self.files.index(problem.file), problem.line or 0))

    # -- reading -----------------------------------------------------------------------------------

    def read(self, file: Path) -> tuple[_Source, dict[str, Any]] | None:
        source = _Source(file)
        self.files.append(file)
        try:
            source.text = file.read_bytes().decode("utf-8-sig")  # tolerate the BOM some Windows editors write
            return source, tomllib.loads(source.text)
        except FileNotFoundError:
            self.report(source, (), "file not found")
        except IsADirectoryError:
            self.report(source, (), "is a folder, expected a TOML file")
        except OSError as error:
            self.report(source, (), f"cannot read the file: {error.strerror}")
        except UnicodeDecodeError:
            self.report(source, (), "not UTF-8 text; save the file as UTF-8")
        except tomllib.TOMLDecodeError as error:
            message, line = _toml_error(error)
            self.problems.append(Problem(file, line, "", f"not valid TOML: {message}"))
        return None

    def validate(self, source: _Source, prefix: FieldPath, model: type[Model], data: object) -> Model | None:
        try:
            return model.model_validate(data)
        except ValidationError as error:
            for details in error.errors(include_url=False):
                path, message = _explain(details, model)
                self.report(source, prefix + path, message)
            return None

    def expand(self, source: _Source, path: FieldPath, patterns: object) -> list[Path]:
        """The files matched by glob patterns relative to source's folder; a pattern matching nothing is a problem."""
        if not isinstance(patterns, list) or not all(isinstance(pattern, str) for pattern in patterns):
            self.report(source, path, f'expected a list of file patterns, e.g. ["items/*.toml"], got {_show(patterns)}')
            return []
        folder = source.file.parent
        files: list[Path] = []
        for index, pattern in enumerate(patterns):
            matches = sorted(glob.glob(os.path.join(glob.escape(str(folder)), pattern), recursive=True))
            found = [Path(os.path.normpath(match)) for match in matches if os.path.isfile(match)]
            if not found:
                self.report(source, (*path, index), f'no file matches "{pattern}" (looked in {folder})')
            files.extend(file for file in found if file not in files)
        return files

    def load(self, main: Path) -> schema.HallConfig | None:
        read = self.read(main)
        if read is None:
            return None
        source, data = read
        if "calendar" in data:
            calendar_paths = self.expand(source, ("calendar",), data.pop("calendar"))
        else:
            calendar_paths = sorted((BUNDLED_DIR / "calendar").glob("*.toml"))
        halls = _tables(data.get("halls"))
        catalogs: dict[int, list[_ItemFile]] = {}
        for index, hall in halls:
            paths = self.expand(source, ("halls", index, "catalog"), hall.pop("catalog", []))
            catalogs[index] = [item_file for path in paths if (item_file := self.item_file(path))]
        config = self.validate(source, (), schema.HallConfig, data)
        calendars = [calendar for path in calendar_paths if (calendar := self.calendar_file(path))]

        for index, hall in halls:
            self.check_hall(source, index, hall, catalogs[index])
        self.check_unique([(source, ("halls", index, "id"), hall.get("id")) for index, hall in halls], "hall id")
        self.check_calendars(calendars)
        if config is None or self.problems:
            return None
        catalog_items = [[item for file in catalogs[index] for _, item in file.items] for index, _ in halls]
        return schema.HallConfig(
            halls=[
                hall.model_copy(update={"items": [*hall.items, *items]})
                for hall, items in zip(config.halls, catalog_items, strict=True)
            ],
            calendar=[calendar.year for calendar in calendars if calendar.year],
        )

    def item_file(self, path: Path) -> _ItemFile | None:
        """A catalogue file, read and validated once however many halls use it."""
        if path not in self.item_files:
            self.item_files[path] = self.read_item_file(path)
        return self.item_files[path]

    def read_item_file(self, path: Path) -> _ItemFile | None:
        read = self.read(path)
        if read is None:
            return None
        source, data = read
        for key in data:
            if key not in ITEM_FILE_KEYS:
                hint = (
                    _did_you_mean(key, ITEM_FILE_KEYS, listing=False)
                    or " (an item file holds `category` and [[items]])"
                )
                self.report(source, (key,), f'unknown top-level key "{key}"{hint}')
        default = data.get("category")
        result = _ItemFile(source, default if isinstance(default, str) else None)
        items = data.get("items")
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            self.report(source, ("items",), "expected [[items]] tables, one per service item")
            return result
        for index, item in enumerate(items):
            if "category" not in item and default is not None:
                item = {**item, "category": default}
                result.defaulted.add(index)
            try:
                result.items.append((index, schema.ServiceItem.model_validate(item)))
            except ValidationError as error:
                for details in error.errors(include_url=False):
                    where, message = _explain(details, schema.ServiceItem)
                    # A bad default category is reported once, on the line that gives it.
                    defaulted = where == ("category",) and index in result.defaulted
                    self.report(source, ("category",) if defaulted else ("items", index, *where), message)
        return result

    def calendar_file(self, path: Path) -> _CalendarFile | None:
        read = self.read(path)
        if read is None:
            return None
        source, data = read
        return _CalendarFile(source, data, self.validate(source, (), schema.CalendarYear, data))

    # -- cross-references --------------------------------------------------------------------------

    def check_unique(self, entries: Iterable[tuple[_Source, FieldPath, object]], what: str) -> None:
        """Every value given once; a repeat names where the value was first used."""
        first: dict[object, tuple[_Source, FieldPath]] = {}
        for source, path, value in entries:
            if value is None or isinstance(value, list | dict):
                continue
            if value not in first:
                first[value] = (source, path)
                continue
            where = _where(*first[value], here=source)
            self.report(source, path, f"{what} {_show(value)} is already used {where}; each must be different")

    def check_hall(self, source: _Source, h: int, hall: dict[str, Any], catalog: list[_ItemFile]) -> None:
        name = f'hall "{hall.get("id")}"'
        categories = _valid(CATEGORIES, hall.get("categories"))
        windows = _valid(WINDOWS, hall.get("windows"))
        # References are checked against the raw tables too, so one bad table does not cause a second error.
        codes = _raw_values(hall.get("categories"), "code")
        numbers = _raw_values(hall.get("windows"), "number")
        served = {code for _, window in _tables(hall.get("windows")) for code in _strings(window.get("categories"))}

        at = ("halls", h)
        self.check_unique([(source, (*at, "categories", i, "code"), c.code) for i, c in categories], "category code")
        self.check_unique(
            [(source, (*at, "categories", i, "prefix"), c.prefix) for i, c in categories], "prefix letter (票号字母)"
        )
        for i, category in categories:
            if category.code not in served:
                self.report(
                    source,
                    (*at, "categories", i, "code"),
                    f'no window serves category "{category.code}" ({category.name_zh}); '
                    "add it to some window's categories, or its tickets are never called",
                )
        self.check_unique([(source, (*at, "windows", i, "number"), w.number) for i, w in windows], "window number")
        for i, window in windows:
            for k, code in enumerate(window.categories):
                if code not in codes:
                    self.report(
                        source,
                        (*at, "windows", i, "categories", k),
                        f'window {window.number} serves category "{code}", which {name} does not have'
                        + _did_you_mean(code, codes),
                    )
        self.check_devices(source, h, name, hall, numbers)
        self.check_sessions(source, h, _valid(SESSIONS, hall.get("sessions")))
        self.check_timezone(source, h, hall.get("timezone"))
        self.check_items(source, h, name, hall, catalog, codes)

    def check_devices(self, source: _Source, h: int, name: str, hall: dict[str, Any], numbers: set[object]) -> None:
        devices = _valid(DEVICES, hall.get("devices"))
        kinds = {device.get("id"): device.get("kind") for _, device in _tables(hall.get("devices"))}
        printers = {device for device, kind in kinds.items() if kind == "printer"}
        at = ("halls", h, "devices")
        self.check_unique([(source, (*at, i, "id"), device.id) for i, device in devices], "device id")
        for i, device in devices:
            if isinstance(device, schema.KioskDevice) and device.printer and device.printer not in printers:
                if device.printer in kinds:
                    problem = f"a {kinds[device.printer]}, not a printer"
                else:
                    problem = f"not a device of {name}" + _did_you_mean(device.printer, printers)
                message = f'kiosk "{device.id}" prints on "{device.printer}", which is {problem}'
                self.report(source, (*at, i, "printer"), message)
            if isinstance(device, schema.BoardDevice) and device.window is not None and device.window not in numbers:
                known = ", ".join(str(number) for number in sorted(n for n in numbers if isinstance(n, int)))
                message = (
                    f'board "{device.id}" shows window {device.window}, which {name} does not have (windows: {known})'
                )
                self.report(source, (*at, i, "window"), message)

    def check_sessions(self, source: _Source, h: int, sessions: list[tuple[int, schema.Session]]) -> None:
        for (_, before), (i, session) in itertools.pairwise(sessions):
            span, before_span = f"{session.start}–{session.end}", f"{before.start}–{before.end}"
            if session.start < before.start:
                message = f"session {span} is listed after {before_span}; list the sessions in order of time"
            elif session.start < before.end:
                message = f"session {span} overlaps the session before it, {before_span}"
            else:
                continue
            self.report(source, ("halls", h, "sessions", i), message)

    def check_timezone(self, source: _Source, h: int, timezone: object) -> None:
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

    def check_items(
        self, source: _Source, h: int, name: str, hall: dict[str, Any], catalog: list[_ItemFile], codes: set[object]
    ) -> None:
        """Items given in the main file and in the hall's catalogue files: known categories, distinct ids."""
        entries: list[tuple[_Source, FieldPath, schema.ServiceItem, bool]] = [
            (source, ("halls", h, "items", i), item, False) for i, item in _valid(ITEMS, hall.get("items"))
        ]
        for file in catalog:
            entries += [(file.source, ("items", i), item, i in file.defaulted) for i, item in file.items]
            default = file.default_category
            if file.defaulted and default and re.match(schema.ID_PATTERN, default) and default not in codes:
                self.report(
                    file.source,
                    ("category",),
                    f'default category "{default}" is not a category of {name}' + _did_you_mean(default, codes),
                )
        for item_source, path, item, defaulted in entries:
            if not defaulted and item.category not in codes:
                self.report(
                    item_source,
                    (*path, "category"),
                    f'service item "{item.id}" is in category "{item.category}", which {name} does not have'
                    + _did_you_mean(item.category, codes),
                )
        self.check_unique([(s, (*path, "id"), item.id) for s, path, item, _ in entries], "service item id")

    def check_calendars(self, calendars: list[_CalendarFile]) -> None:
        self.check_unique([(c.source, ("year",), c.data.get("year")) for c in calendars], "calendar year")
        for calendar in calendars:
            source, year = calendar.source, calendar.data.get("year")
            if not isinstance(year, int) or isinstance(year, bool):
                continue
            stem = source.file.stem
            if stem.isdigit() and stem != str(year):  # a copied file whose year was not edited
                self.report(
                    source,
                    ("year",),
                    f"this file gives the holidays of {year} but is named {stem}; name it {year}.toml",
                )
            holidays = _valid(HOLIDAYS, calendar.data.get("holidays"))
            for i, holiday in holidays:
                for key, day in (("start", holiday.start), ("end", holiday.end)):
                    if not _in_year(day, year):
                        self.report(source, ("holidays", i, key), f"{day} is not in {year}, the year of this file")
                for k, day in enumerate(holiday.makeup_workdays):
                    path = ("holidays", i, "makeup_workdays", k)
                    if not _in_year(day, year):
                        self.report(
                            source, path, f"make-up workday (调休上班日) {day} is not in {year}, the year of this file"
                        )
                    elif day.weekday() < 5:
                        self.report(
                            source,
                            path,
                            f"make-up workday (调休上班日) {day} is a {day:%A}; "
                            "a make-up workday is a Saturday or Sunday worked in exchange for a holiday",
                        )
                    for _, other in holidays:
                        if other.start <= day <= other.end:
                            self.report(
                                source,
                                path,
                                f"make-up workday (调休上班日) {day} falls inside the holiday "
                                f"{other.name_zh} ({other.start} to {other.end})",
                            )


# -- helpers -----------------------------------------------------------------------------------------


def _count(number: int) -> str:
    return f"{number} problem{'' if number == 1 else 's'}"


def _where(source: _Source, path: FieldPath, here: _Source) -> str:
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


def _tables(data: object) -> list[tuple[int, dict[str, Any]]]:
    elements = data if isinstance(data, list) else []
    return [(index, table) for index, table in enumerate(elements) if isinstance(table, dict)]


def _raw_values(data: object, key: str) -> set[object]:
    """The values given for key in a list of tables, valid or not."""
    return {table[key] for _, table in _tables(data) if key in table and not isinstance(table[key], list | dict)}


def _strings(data: object) -> list[str]:
    return [value for value in data if isinstance(value, str)] if isinstance(data, list) else []


def _in_year(day: date, year: int) -> bool:
    # A year's State Council notice may start New Year's Day, or put its make-up day, in the last days
    # of the December before: 元旦 2024 ran from 2023-12-30, and 2012's make-up day was 2011-12-31.
    return day.year == year or (day.year == year - 1 and day.month == 12 and day.day >= 25)


def _did_you_mean(value: str, choices: Iterable[object], listing: bool = True) -> str:
    names = sorted(choice for choice in choices if isinstance(choice, str))
    close = difflib.get_close_matches(value, names, n=1, cutoff=0.6)
    if close:
        return f' (did you mean "{close[0]}"?)'
    return f" (known: {', '.join(names)})" if listing and names else ""


def _toml_error(error: tomllib.TOMLDecodeError) -> tuple[str, int | None]:
    """tomllib's message with its position as '(column N)', and the line."""
    text = str(error)
    match = re.fullmatch(r"(.*) \(at line (\d+), column (\d+)\)", text, re.DOTALL)
    if match:
        return f"{match[1][:1].lower()}{match[1][1:]} (column {match[3]})", int(match[2])
    text = text.replace(" (at end of document)", " at the end of the file")
    return text[:1].lower() + text[1:], None


def _show(value: object) -> str:
    """A value as it would be written in TOML, shortened."""
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, dict):
        text = "a table"
    elif isinstance(value, list):
        text = "[" + ", ".join(_show(element) for element in value) + "]"
    else:
        text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


# -- pydantic errors in the administrator's words ------------------------------------------------------


def _unwrap(annotation: Any) -> Any:
    """A field's type without Annotated[...] and `| None`."""
    while True:
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
        elif get_origin(annotation) in (Union, UnionType) and type(None) in get_args(annotation):
            members = [member for member in get_args(annotation) if member is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _resolve(root: type[BaseModel], loc: Sequence[Key]) -> tuple[FieldPath, type[BaseModel] | None, FieldInfo | None]:
    """An error location as a field path (without union tags), the model holding the field, and the field."""
    path: list[Key] = []
    annotation: Any = root
    model: type[BaseModel] | None = None
    info: FieldInfo | None = None
    for key in loc:
        annotation = _unwrap(annotation)
        if isinstance(key, int):
            path.append(key)
            annotation = get_args(annotation)[0] if get_origin(annotation) is list else None
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model, info = annotation, annotation.model_fields.get(key)
            annotation = info.annotation if info else None
            path.append(key)
        elif get_origin(annotation) in (Union, UnionType):  # a tagged union: the location names the member's kind
            annotation = next((member for member in get_args(annotation) if key in _kinds(member)), None)
        else:
            path.append(key)
            annotation = None
    return tuple(path), model, info


def _kinds(member: Any) -> tuple[Any, ...]:
    """The tags a member of a tagged union answers to: the values of its Literal `kind`."""
    kind = member.model_fields.get("kind") if isinstance(member, type) and issubclass(member, BaseModel) else None
    return get_args(kind.annotation) if kind else ()


def _range(info: FieldInfo | None, ctx: dict[str, Any]) -> str:
    """' from 1 to 20', ' above 0 and at most 240', ' of at least 1' or '' from a field's bounds."""
    bounds = {
        key: getattr(meta, key)
        for meta in (info.metadata if info else [])
        for key in ("ge", "gt", "le", "lt")
        if hasattr(meta, key)
    }
    bounds = bounds or {key: ctx[key] for key in ("ge", "gt", "le", "lt") if key in ctx}
    if "ge" in bounds and "le" in bounds:
        return f" from {bounds['ge']} to {bounds['le']}"
    low = f"at least {bounds['ge']}" if "ge" in bounds else f"above {bounds['gt']}" if "gt" in bounds else ""
    high = f"at most {bounds['le']}" if "le" in bounds else f"below {bounds['lt']}" if "lt" in bounds else ""
    text = " and ".join(part for part in (low, high) if part)
    return f" of {text}" if text.startswith("at") else f" {text}" if text else ""


def _one_of(expected: object) -> str:
    """pydantic's "'a', 'b' or 'c'" with the double quotes a TOML file uses."""
    return str(expected).replace("'", '"')


def _explain(error: ErrorDetails, root: type[BaseModel]) -> tuple[FieldPath, str]:
    """A pydantic error as the path of its field and a sentence for a hall administrator."""
    path, model, info = _resolve(root, error["loc"])
    kind, ctx, value = error["type"], error.get("ctx", {}), error["input"]
    name = str(path[-1]) if path else ""
    noun = NOUNS.get(model, "table") if model else "table"
    got = f", got {_show(value)}"
    if kind == "missing":
        return path, f"missing: every {noun} needs {FIELD_LABELS.get(name, name)}"
    if kind == "extra_forbidden":
        where = "at the top level" if model in (schema.HallConfig, schema.CalendarYear) else f"in a {noun}"
        return path, f'unknown field "{name}" {where}' + _did_you_mean(name, model.model_fields if model else [])
    if kind.startswith(("int_", "float_", "greater_than", "less_than")):
        whole = kind.startswith("int_") or (info is not None and _unwrap(info.annotation) is int)
        return path, f"expected {'a whole number' if whole else 'a number'}{_range(info, ctx)}{got}"
    if kind.startswith("date"):
        return path, f"expected a date like 2026-10-01{got}"
    if kind in ("decimal_max_places", "decimal_whole_digits", "decimal_max_digits"):
        return path, f"expected an amount in yuan with at most 2 decimal places, e.g. 12.50{got}"
    if kind.startswith("decimal"):
        return path, f"expected an amount in yuan, e.g. 12.50{got}"
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        return path, str(ctx["error"])
    if kind == "union_tag_invalid":
        tags = _one_of(ctx.get("expected_tags")).rsplit(", ", 1)
        return path, f"unknown kind {_show(ctx.get('tag'))}: expected {' or '.join(tags)}"
    if kind == "union_tag_not_found":
        return path, 'missing: say what this device is, e.g. kind = "printer", "kiosk" or "board"'
    if kind == "string_too_long":
        length = len(value) if isinstance(value, str) else "more"
        return path, f"too long: at most {ctx.get('max_length')} characters, got {length}"
    expected = {
        "bool_type": "true or false",
        "bool_parsing": "true or false",
        "string_type": "text in quotes",
        "string_pattern_mismatch": PATTERN_HINTS.get(ctx.get("pattern", ""), f"text matching {ctx.get('pattern')}"),
        "string_too_short": "some text",
        "too_short": f"at least {ctx.get('min_length')} entr{'y' if ctx.get('min_length') == 1 else 'ies'}",
        "too_long": f"at most {ctx.get('max_length')} entries",
        "list_type": "a list [...]",
        "model_type": "a table",
        "model_attributes_type": "a table",
        "dict_type": "a table",
        "enum": f"one of {_one_of(ctx.get('expected'))}",
        "literal_error": f"one of {_one_of(ctx.get('expected'))}",
    }.get(kind)
    if expected:
        return path, f"expected {expected}{got}"
    return path, f"{error['msg']}{got}"
