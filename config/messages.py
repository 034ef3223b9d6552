"""Problems in a hall administrator's words: pydantic and TOML errors, values and field paths as written in TOML."""

from __future__ import annotations

import difflib
import json
import re
import tomllib
from collections.abc import Iterable, Sequence
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from config import schema
from config.locate import FieldPath, Key

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
_BOUNDS = ("ge", "gt", "le", "lt")


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


def show(value: object) -> str:
    """A value as it would be written in TOML, shortened."""
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, dict):
        text = "a table"
    elif isinstance(value, list):
        text = "[" + ", ".join(show(element) for element in value) + "]"
    else:
        text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def did_you_mean(value: str, choices: Iterable[object], listing: bool = True) -> str:
    """' (did you mean "x"?)' for the closest choice; else the choices listed, or '' when listing is off."""
    names = sorted(choice for choice in choices if isinstance(choice, str))
    close = difflib.get_close_matches(value, names, n=1, cutoff=0.6)
    if close:
        return f' (did you mean "{close[0]}"?)'
    return f" (known: {', '.join(names)})" if listing and names else ""


def _loader_only(info: FieldInfo) -> bool:
    extra = info.json_schema_extra
    return isinstance(extra, dict) and bool(extra.get("loader_only"))


def toml_error(error: tomllib.TOMLDecodeError) -> tuple[str, int | None]:
    """tomllib's message with its position as '(column N)', and the line."""
    text = str(error)
    match = re.fullmatch(r"(.*) \(at line (\d+), column (\d+)\)", text, re.DOTALL)
    if match:
        return f"{match[1][:1].lower()}{match[1][1:]} (column {match[3]})", int(match[2])
    text = text.replace(" (at end of document)", " at the end of the file")
    return text[:1].lower() + text[1:], None


def explain(error: ErrorDetails, root: type[BaseModel]) -> tuple[FieldPath, str]:
    """A pydantic error as the path of its field and a sentence for a hall administrator."""
    path, model, info = _resolve(root, error["loc"])
    kind, ctx, value = error["type"], error.get("ctx", {}), error["input"]
    name = str(path[-1]) if path else ""
    noun = NOUNS.get(model, "table") if model else "table"
    got = f", got {show(value)}"
    if kind == "missing":
        return path, f"missing: every {noun} needs {FIELD_LABELS.get(name, name)}"
    if kind == "extra_forbidden":
        where = "at the top level" if model in (schema.HallConfig, schema.CalendarYear) else f"in a {noun}"
        fields = [n for n, f in (model.model_fields if model else {}).items() if not _loader_only(f)]
        return path, f'unknown field "{name}" {where}' + did_you_mean(name, fields)
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
        return path, f"unknown kind {show(ctx.get('tag'))}: expected {' or '.join(tags)}"
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
        key: getattr(meta, key) for meta in (info.metadata if info else []) for key in _BOUNDS if hasattr(meta, key)
    }
    bounds = bounds or {key: ctx[key] for key in _BOUNDS if key in ctx}
    if "ge" in bounds and "le" in bounds:
        return f" from {bounds['ge']} to {bounds['le']}"
    low = f"at least {bounds['ge']}" if "ge" in bounds else f"above {bounds['gt']}" if "gt" in bounds else ""
    high = f"at most {bounds['le']}" if "le" in bounds else f"below {bounds['lt']}" if "lt" in bounds else ""
    text = " and ".join(part for part in (low, high) if part)
    return f" of {text}" if text.startswith("at") else f" {text}" if text else ""


def _one_of(expected: object) -> str:
    """pydantic's "'a', 'b' or 'c'" with the double quotes a TOML file uses."""
    return str(expected).replace("'", '"')
