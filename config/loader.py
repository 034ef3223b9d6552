"""Load a hall configuration from TOML files: read them, expand catalogue and calendar globs, validate, cross-check."""

from __future__ import annotations

import glob
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from config import documents as documents_
from config import schema
from config.checks import cross_check, tables
from config.locate import FieldPath, index_lines, locate
from config.messages import did_you_mean, explain, format_path, show, toml_error

__all__ = ["ConfigError", "Problem", "default_config_path", "format_path", "load_config"]

Model = TypeVar("Model", bound=BaseModel)

BUNDLED_DIR = Path(__file__).parent
ITEM_FILE_KEYS = ("category", "items")


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


#: Where a configuration without a `calendar` key keeps the years its administrator added, beside its main file.
LOCAL_CALENDAR = "calendar"


def check_calendar_file(path: Path) -> tuple[schema.CalendarYear | None, list[Problem]]:
    """One year's schedule checked as `bianmin config check` checks a calendar file: the year, or every problem."""
    loader = _Loader()
    calendar = loader.calendar_file(Path(path))
    if calendar is not None:
        cross_check(loader.report, calendar.source, [], {}, [calendar])
    problems = loader.sorted_problems()
    return (calendar.year if calendar is not None and not problems else None), problems


def default_config_path() -> Path:
    """The main file of the demo hall shipped with Bianmin."""
    return BUNDLED_DIR / "default" / "hall.toml"


def load_config(path: Path, documents: Mapping[str, Path] | None = None) -> schema.HallConfig:
    """Read the main file at path and every file it names; raise ConfigError listing every problem found.

    A hall with a link also runs the county's documents found in its link's documents folder (`config/documents.py`);
    `documents` puts other files in their place, by file name (a fetched version checked before it is used).
    """
    loader = _Loader(documents=documents)
    config = loader.load(Path(path))
    if loader.problems or config is None:
        raise ConfigError(loader.sorted_problems())
    return config


@dataclass
class Source:
    """A file's text, and the lines of its fields (found when first asked)."""

    file: Path
    text: str = ""
    sha256: str = ""
    _lines: dict[FieldPath, int] | None = field(default=None, repr=False)

    def line(self, path: FieldPath) -> int | None:
        if self._lines is None:
            self._lines = index_lines(self.text)
        return locate(self._lines, path)


@dataclass
class ItemFile:
    """A catalogue file: its valid items by index, and the indexes of those given the file's default category."""

    source: Source
    default_category: str | None
    items: list[tuple[int, schema.ServiceItem]] = field(default_factory=list)
    defaulted: set[int] = field(default_factory=set)


@dataclass
class CalendarFile:
    """A calendar file: its TOML data, and its schedule if valid."""

    source: Source
    data: dict[str, Any]
    year: schema.CalendarYear | None
    at: FieldPath = ()  # where the year's table is in its file (a county's calendar holds several)


@dataclass
class DocumentFile:
    """A county document a hall runs: its header, and its items (a catalogue) or its years (a calendar)."""

    source: Source
    header: documents_.Header | None
    items: ItemFile | None = None
    years: list[CalendarFile] = field(default_factory=list)


# Every problem is collected before anything is refused, so a hall administrator fixes a configuration
# in one round rather than one error per run. Each file is validated on its own, so every schema error
# maps back to the file that holds it.
class _Loader:
    """One loading run: reads each file once and collects the problems."""

    def __init__(self, nested: bool = False, documents: Mapping[str, Path] | None = None, *, for_city: bool = False
                 ) -> None:  # fmt: skip
        self.nested = nested  # reading a township's file for its county: it may name neither townships nor counties
        self.for_city = for_city  # reading a county's file for its city: it may not name counties
        self.documents = dict(
            documents or {}
        )  # reading a township's file for its county: it may not name townships itself
        self.problems: list[Problem] = []
        self.item_files: dict[Path, ItemFile | None] = {}
        self.files: list[Path] = []  # in the order they were named

    def report(self, source: Source, path: FieldPath, message: str) -> None:
        self.problems.append(Problem(source.file, source.line(path), format_path(path), message))

    def sorted_problems(self) -> list[Problem]:
        """Each problem once, file by file in the order the files were named, top to bottom within a file."""
        unique = list(dict.fromkeys(self.problems))
        return sorted(unique, key=lambda problem: (self.files.index(problem.file), problem.line or 0))

    # -- reading -----------------------------------------------------------------------------------

    def read(self, file: Path) -> tuple[Source, dict[str, Any]] | None:
        source = Source(file)
        self.files.append(file)
        try:
            raw = file.read_bytes()
            source.sha256 = documents_.sha256(raw)
            source.text = raw.decode("utf-8-sig")  # tolerate the BOM some Windows editors write
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
            message, line = toml_error(error)
            self.problems.append(Problem(file, line, "", f"not valid TOML: {message}"))
        return None

    def validate(
        self,
        source: Source,
        model: type[Model],
        data: object,
        prefix: FieldPath = (),
        moved: Mapping[FieldPath, FieldPath] | None = None,
    ) -> Model | None:
        """data as a model; else None, each error reported at prefix + its path, or where moved sends that path."""
        try:
            return model.model_validate(data)
        except ValidationError as error:
            for details in error.errors(include_url=False):
                path, message = explain(details, model)
                self.report(source, (moved or {}).get(path, prefix + path), message)
            return None

    def expand(self, source: Source, path: FieldPath, patterns: object) -> list[Path]:
        """The files matched by glob patterns relative to source's folder; a pattern matching nothing is a problem."""
        if not isinstance(patterns, list) or not all(isinstance(pattern, str) for pattern in patterns):
            self.report(source, path, f'expected a list of file patterns, e.g. ["items/*.toml"], got {show(patterns)}')
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
        else:  # the bundled years, and the years added beside the main file (`bianmin calendar add`) in their place
            added = sorted((source.file.parent / LOCAL_CALENDAR).glob("*.toml"))
            names = {path.name for path in added}
            bundled = sorted((BUNDLED_DIR / "calendar").glob("*.toml"))
            calendar_paths = [path for path in bundled if path.name not in names] + added
        if "documents" in data:
            data.pop("documents")
            self.report(source, ("documents",), "is set by the link from the county's documents, not by hand")
        local = {hall.get("id") for _, hall in tables(data.get("halls"))}
        townships = self.townships(source, data.pop("townships", []), local)
        if "counties" in data:
            known = local | {t.id for t in townships}
            counties, remote = self.counties(source, data.pop("counties"), known, data.get("city"))
            data["counties"] = counties
            townships.extend(remote)
        halls = tables(data.get("halls"))
        catalogs: dict[int, list[ItemFile]] = {}
        for index, hall in halls:
            paths = self.expand(source, ("halls", index, "catalog"), hall.pop("catalog", []))
            catalogs[index] = [item_file for path in paths if (item_file := self.item_file(path))]
        county_files = self.county_catalog(source, data.get("county"))
        config = self.validate(source, schema.HallConfig, data)
        calendars = [calendar for path in calendar_paths if (calendar := self.calendar_file(path))]
        folders = self.document_folders(source, halls)
        county_catalogs = {index: doc for index, hall in halls if (doc := self.catalogue(hall, folders[index]))}
        county_calendar = self.calendar_document(folders)
        replaced_years = self.take_years(calendars, county_calendar)

        cross_check(self.report, source, halls, catalogs, calendars, county_catalogs)
        self.check_county_catalog(county_files, halls, townships)
        if config is None or self.problems:
            return None
        return self.built(config, townships, halls, catalogs, calendars, folders, county_catalogs, county_calendar,
                          replaced_years, county_files)  # fmt: skip

    def built(
        self,
        config: schema.HallConfig,
        townships: list[schema.Hall],
        halls: list[tuple[int, dict[str, Any]]],
        catalogs: dict[int, list[ItemFile]],
        calendars: list[CalendarFile],
        folders: dict[int, Path | None],
        county_catalogs: dict[int, DocumentFile],
        county_calendar: DocumentFile | None,
        replaced_years: list[str],
        county_files: list[ItemFile] | None,
    ) -> schema.HallConfig:
        """The configuration loaded: catalogue files and the county's documents folded into the halls."""
        built_halls: list[schema.Hall] = []
        used: list[schema.LinkDocument] = []
        for (index, _), hall in zip(halls, config.halls, strict=True):
            items = [*hall.items, *(item for file in catalogs[index] for _, item in file.items)]
            update: dict[str, Any] = {"items": items}
            document = county_catalogs.get(index)
            if document is not None and document.items is not None and document.header is not None:
                given = [item for _, item in document.items.items]
                ids = {item.id for item in given}
                update["items"] = [item for item in items if item.id not in ids] + given  # the county's wins
                replaced = [item.id for item in items if item.id in ids]
                used.append(_used(document, hall.id, replaced))
            if hall.link is not None and folders.get(index) is not None:
                update["link"] = hall.link.model_copy(update={"documents_dir": str(folders[index])})
            built_halls.append(hall.model_copy(update=update))
        years = [calendar.year for calendar in calendars if calendar.year]  # the county's years among them
        if county_calendar is not None and county_calendar.header is not None:
            linked = next(hall for hall in config.halls if hall.link is not None)
            used.append(_used(county_calendar, linked.id, replaced_years))
        county = config.county
        if county is not None and county_files is not None:
            county = county.model_copy(
                update={"items": [*county.items, *(i for f in county_files for _, i in f.items)]}
            )
        return schema.HallConfig(halls=built_halls, county=county, city=config.city, counties=config.counties,
                                 townships=townships, calendar=sorted(years, key=lambda year: year.year),
                                 documents=used)  # fmt: skip

    # -- a county's catalogue, and the county's documents a township runs ----------------------------------------

    def county_catalog(self, source: Source, county: object) -> list[ItemFile] | None:
        """The item files of `[county] catalog` (None: not given; the county publishes its first hall's items)."""
        if not isinstance(county, dict) or "catalog" not in county:
            return None
        paths = self.expand(source, ("county", "catalog"), county.pop("catalog"))
        return [item_file for path in paths if (item_file := self.item_file(path))]

    def check_county_catalog(
        self, files: list[ItemFile] | None, halls: list[tuple[int, dict[str, Any]]], townships: list[schema.Hall]
    ) -> None:
        """The county's catalogue: each item id once, each category one that some hall of the county has."""
        if files is None:
            return
        codes = {c.get("code") for _, hall in halls for _, c in tables(hall.get("categories"))}
        codes |= {category.code for hall in townships for category in hall.categories}
        seen: dict[str, Source] = {}
        for file in files:
            for index, item in file.items:
                if item.category not in codes:
                    message = (
                        f'service item "{item.id}" is in category "{item.category}", which no hall of the county has'
                    )
                    self.report(file.source, ("items", index, "category"), message + did_you_mean(item.category, codes))
                if item.id in seen:
                    message = (
                        f'service item id "{item.id}" is already used in {seen[item.id].file}; each must be different'
                    )
                    self.report(file.source, ("items", index, "id"), message)
                seen.setdefault(item.id, file.source)

    def document_folders(self, source: Source, halls: list[tuple[int, dict[str, Any]]]) -> dict[int, Path | None]:
        """Each hall's documents folder: its link's `documents_dir`, relative to this file (None: no link)."""
        folders: dict[int, Path | None] = {}
        for index, hall in halls:
            link = hall.get("link")
            folder = link.get("documents_dir", "var/link") if isinstance(link, dict) else None
            folders[index] = Path(os.path.normpath(source.file.parent / folder)) if isinstance(folder, str) else None
        return folders

    def document_path(self, folder: Path, name: str) -> Path | None:
        """The file of a document: the one put in its place, else the one in the folder if there is one."""
        if name in self.documents:
            return Path(self.documents[name])
        path = folder / name
        return path if path.exists() else None

    def catalogue(self, hall: dict[str, Any], folder: Path | None) -> DocumentFile | None:
        hall_id = hall.get("id")
        if folder is None or not isinstance(hall_id, str):
            return None
        path = self.document_path(folder, documents_.file_name("catalogue", hall_id))
        return None if path is None else self.document(path, "catalogue")

    def calendar_document(self, folders: dict[int, Path | None]) -> DocumentFile | None:
        """The county's calendar, from the folder of the first hall with a link (the configuration has one)."""
        folder = next((folder for folder in folders.values() if folder is not None), None)
        path = None if folder is None else self.document_path(folder, documents_.file_name("calendar", ""))
        return None if path is None else self.document(path, "calendar")

    def document(self, path: Path, kind: documents_.Kind) -> DocumentFile | None:
        read = self.read(path)
        if read is None:
            return None
        source, data = read
        body = documents_.BODY_KEY[kind]
        for key in data:
            if key not in ("document", body):
                self.report(source, (key,), f'unknown top-level key "{key}" in a county {kind} (it holds [document] '
                                            f"and [[{body}]])")  # fmt: skip
        header = self.validate(source, documents_.Header, data.get("document"), ("document",))
        if header is not None and header.kind != kind:
            self.report(source, ("document", "kind"), f"this is a county {header.kind}, expected a {kind}")
            header = None
        found = DocumentFile(source, header)
        entries = data.get(body, [])
        if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
            self.report(source, (body,), f"expected [[{body}]] tables")
            return found
        if kind == "catalogue":
            found.items = ItemFile(source, None)
            for index, entry in enumerate(entries):
                item = self.validate(source, schema.ServiceItem, entry, ("items", index))
                if item is not None:
                    found.items.items.append((index, item))
        else:
            for index, entry in enumerate(entries):
                year = self.validate(source, schema.CalendarYear, entry, ("years", index))
                found.years.append(CalendarFile(source, entry, year, ("years", index)))
        return found

    def take_years(self, calendars: list[CalendarFile], county: DocumentFile | None) -> list[str]:
        """The county's calendar replaces the hall's own calendar files of the years it gives; those years."""
        if county is None:
            return []
        given = {calendar.data.get("year") for calendar in county.years}
        replaced = [calendar for calendar in calendars if calendar.data.get("year") in given]
        for calendar in replaced:
            calendars.remove(calendar)
        calendars.extend(county.years)
        return [str(calendar.data.get("year")) for calendar in replaced]

    def townships(self, source: Source, entries: object, local: set[object]) -> list[schema.Hall]:
        """The halls of `[[townships]]`, each read from the township's own configuration file."""
        if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
            self.report(source, ("townships",), "expected [[townships]] tables, each with id and config")
            return []
        if entries and self.nested:
            self.report(source, ("townships",), "a township's own configuration cannot list townships")
            return []
        found: list[schema.Hall] = []
        for index, entry in enumerate(entries):
            ref = self.validate(source, schema.TownshipRef, entry, ("townships", index))
            if ref is None:
                continue
            if ref.id in local or any(hall.id == ref.id for hall in found):
                message = f'hall "{ref.id}" is already named; each must be different'
                self.report(source, ("townships", index, "id"), message)
                continue
            sub = _Loader(nested=True)
            loaded = sub.load(source.file.parent / ref.config)
            self.problems.extend(sub.problems)
            self.files.extend(file for file in sub.files if file not in self.files)
            if loaded is None:
                continue
            try:
                found.append(loaded.hall(ref.id))
            except KeyError:
                names = ", ".join(hall.id for hall in loaded.halls)
                self.report(source, ("townships", index, "id"), f'{ref.config} has no hall "{ref.id}" (it has {names})')
        return found

    def counties(
        self, source: Source, entries: object, known: set[object], city: object
    ) -> tuple[list[dict[str, Any]], list[schema.Hall]]:
        """The counties of `[[counties]]` (a city's), each read from the county center's own configuration file:
        each county's name and hall ids, and every hall of every county (its own halls, then its townships)."""
        if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
            self.report(source, ("counties",), "expected [[counties]] tables, each with id and config")
            return [], []
        if entries and (self.nested or self.for_city or not isinstance(city, dict)):
            self.report(source, ("counties",), "only a city's configuration ([city]) lists counties")
            return [], []
        counties: list[dict[str, Any]] = []
        halls: list[schema.Hall] = []
        owner: dict[str, str] = {}
        for index, entry in enumerate(entries):
            ref = self.validate(source, schema.CountyRef, entry, ("counties", index))
            if ref is None:
                continue
            if any(county["id"] == ref.id for county in counties):
                self.report(source, ("counties", index, "id"), f'county "{ref.id}" is already named; each must be '
                                                               "different")  # fmt: skip
                continue
            sub = _Loader(for_city=True)
            loaded = sub.load(source.file.parent / ref.config)
            self.problems.extend(sub.problems)
            self.files.extend(file for file in sub.files if file not in self.files)
            if loaded is None:
                continue
            if loaded.county is None or loaded.county.id != ref.id:
                found = f'its [county] is "{loaded.county.id}"' if loaded.county else "it has no [county]"
                self.report(source, ("counties", index, "id"), f'{ref.config} is not county "{ref.id}" ({found})')
                continue
            mine = [*loaded.halls, *loaded.townships]
            clash = False
            for hall in mine:
                if hall.id in owner or hall.id in known:
                    where = f'county "{owner[hall.id]}"' if hall.id in owner else "this configuration"
                    self.report(source, ("counties", index, "config"),
                                f'hall "{hall.id}" of county "{ref.id}" is already a hall of {where}; '
                                "a hall belongs to one county")  # fmt: skip
                    clash = True
            if clash:
                continue
            owner.update({hall.id: ref.id for hall in mine})
            halls.extend(mine)
            counties.append({"id": ref.id, "name_zh": loaded.county.name_zh, "name_en": loaded.county.name_en,
                             "halls": [hall.id for hall in mine]})  # fmt: skip
        return counties, halls

    def item_file(self, path: Path) -> ItemFile | None:
        """A catalogue file, read and validated once however many halls use it."""
        if path not in self.item_files:
            self.item_files[path] = self.read_item_file(path)
        return self.item_files[path]

    def read_item_file(self, path: Path) -> ItemFile | None:
        read = self.read(path)
        if read is None:
            return None
        source, data = read
        for key in data:
            if key not in ITEM_FILE_KEYS:
                hint = (
                    did_you_mean(key, ITEM_FILE_KEYS, listing=False) or " (an item file holds `category` and [[items]])"
                )
                self.report(source, (key,), f'unknown top-level key "{key}"{hint}')
        default = data.get("category")
        result = ItemFile(source, default if isinstance(default, str) else None)
        items = data.get("items")
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            self.report(source, ("items",), "expected [[items]] tables, one per service item")
            return result
        for index, item in enumerate(items):
            moved: dict[FieldPath, FieldPath] = {}
            if "category" not in item and default is not None:
                item = {**item, "category": default}
                result.defaulted.add(index)
                moved = {("category",): ("category",)}  # a bad default is reported once, on the line that gives it
            valid = self.validate(source, schema.ServiceItem, item, ("items", index), moved)
            if valid is not None:
                result.items.append((index, valid))
        return result

    def calendar_file(self, path: Path) -> CalendarFile | None:
        read = self.read(path)
        if read is None:
            return None
        source, data = read
        return CalendarFile(source, data, self.validate(source, schema.CalendarYear, data))


def _used(document: DocumentFile, hall: str, replaced: list[str]) -> schema.LinkDocument:
    assert document.header is not None
    source = document.source
    return schema.LinkDocument(kind=document.header.kind, hall=hall, version=document.header.version,
                               sha256=source.sha256, file=str(source.file), replaced=replaced)  # fmt: skip


def _count(number: int) -> str:
    return f"{number} problem{'' if number == 1 else 's'}"
