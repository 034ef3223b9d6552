"""The county demo's configuration files: a county center and its townships, each a copy of the bundled demo hall.

Every hall is the bundled demo hall (its 9 categories, 10 windows and 91 service items) under another name,
with daily caps of 9,999 (a demo plays several simulated days in one real day). Each township's file has the
`[halls.link]` to the county; the county's file names its own hall, `[county]` and the `[[townships]]`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from config.loader import default_config_path

DAILY_CAP = 9999


@dataclass(frozen=True)
class Place:
    id: str
    name_zh: str
    name_en: str
    town_zh: str  # the place in the hall's address


COUNTY = Place("changqing", "长青县", "Changqing County", "")
COUNTY_HALL = Place("changqing", "长青县政务服务中心", "Changqing County Government Service Center", "城关镇")
TOWNSHIPS = (
    Place("qingshan", "青山镇便民服务中心", "Qingshan Town Convenience Service Center", "青山镇"),
    Place("baiyun", "白云镇便民服务中心", "Baiyun Town Convenience Service Center", "白云镇"),
    Place("shuikou", "水口乡便民服务中心", "Shuikou Township Convenience Service Center", "水口乡"),
)


def hall_text(place: Place) -> str:
    """The bundled demo hall's file as `place`'s, its catalogue found where Bianmin is installed."""
    source = default_config_path()
    text = source.read_text(encoding="utf-8")
    text = text.replace('id = "qingshan"', f'id = "{place.id}"', 1)
    text = text.replace("青山镇便民服务中心", place.name_zh)
    text = text.replace("Qingshan Town Convenience Service Center", place.name_en)
    text = text.replace("长青县青山镇", f"长青县{place.town_zh}")
    catalog = (source.parent / "items" / "*.toml").as_posix()
    text = text.replace('catalog = ["items/*.toml"]', f'catalog = ["{catalog}"]', 1)
    return re.sub(r"(?m)^(\s*daily_cap\s*=\s*)\d+", rf"\g<1>{DAILY_CAP}", text)


def write_township(folder: Path, place: Place, county_url: str, token_file: Path) -> Path:
    """The township's hall file, shipping to the county at `county_url` with the token in `token_file`."""
    link = (
        f'\n[halls.link]\nurl = "{county_url}"\ntoken_file = "{token_file.as_posix()}"\n'
        "interval_s = 1\nretry_min_s = 0.5\nretry_max_s = 5\n"
    )
    path = folder / "townships" / place.id / "hall.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(hall_text(place) + link, encoding="utf-8")
    return path


def write_county(folder: Path, townships: list[Path], places: list[Place]) -> Path:
    """The county center's file: `[county]`, its own hall, and each township read from its own file."""
    path = folder / "county" / "county.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    head = f'[county]\nid = "{COUNTY.id}"\nname_zh = "{COUNTY.name_zh}"\nname_en = "{COUNTY.name_en}"\n\n'
    refs = "".join(
        f'\n[[townships]]\nid = "{place.id}"\nconfig = "{file.as_posix()}"\n'
        for place, file in zip(places, townships, strict=True)
    )
    path.write_text(head + hall_text(COUNTY_HALL) + refs, encoding="utf-8")
    return path
