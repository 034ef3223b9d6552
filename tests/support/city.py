"""A city of two counties as configuration files, built from the demo hall: each county center serves its own
hall and has one township; the city names the counties' own files (as `bianmin serve --config city.toml` reads)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from config.loader import default_config_path

CITY = "changsha-shi"
#: county id → (中文名, English name, its own hall, its township)
COUNTIES: dict[str, tuple[str, str, str, str]] = {
    "changqing": ("长青县", "Changqing County", "changqing", "qingshan"),
    "baishui": ("白水县", "Baishui County", "baishui", "baiyun"),
}
NAMES = {"changqing": "长青县政务服务中心", "qingshan": "青山镇便民服务中心", "baishui": "白水县政务服务中心",
         "baiyun": "白云镇便民服务中心"}  # fmt: skip


def hall_text(hall: str, items: str, extra: str = "") -> str:
    """The demo hall's file as hall `hall`, its catalogue at `items` (a folder pattern), `extra` after its keys."""
    text = default_config_path().read_text(encoding="utf-8")
    text = text.replace('id = "qingshan"', f'id = "{hall}"', 1).replace('"青山镇便民服务中心"', f'"{NAMES[hall]}"', 1)
    text = text.replace('catalog = ["items/*.toml"]', f'catalog = ["{items}/*.toml"]', 1)
    return text.replace("\n[halls.queue]", extra + "\n[halls.queue]", 1)


def county_text(county: str, items: str, link: str = "") -> str:
    zh, en, own, township = COUNTIES[county]
    head = f'[county]\nid = "{county}"\nname_zh = "{zh}"\nname_en = "{en}"\n{link}\n'
    return head + hall_text(own, items) + f'\n[[townships]]\nid = "{township}"\nconfig = "townships/{township}.toml"\n'


def write_city(root: Path, links: Mapping[str, str] | None = None, township_links: Mapping[str, str] | None = None
               ) -> Path:  # fmt: skip
    """The files under root; `links`: a county's `[county.link]` table body (its relay to the city),
    `township_links`: a township's `[halls.link]` body. Returns the city's main file."""
    items = root / "items"
    if not items.exists():
        shutil.copytree(default_config_path().parent / "items", items)
    for county, (_zh, _en, _own, township) in COUNTIES.items():
        folder = root / "counties" / county
        (folder / "townships").mkdir(parents=True, exist_ok=True)
        link = (links or {}).get(county)
        body = "" if link is None else f"\n[county.link]\n{link}\n"
        (folder / "county.toml").write_text(county_text(county, os.path.relpath(items, folder), body), "utf-8")
        up = (township_links or {}).get(township)
        extra = "" if up is None else f"\n[halls.link]\n{up}\n"
        text = hall_text(township, os.path.relpath(items, folder / "townships"), extra)
        (folder / "townships" / f"{township}.toml").write_text(text, "utf-8")
    main = root / "city.toml"
    counties = "".join(f'\n[[counties]]\nid = "{c}"\nconfig = "counties/{c}/county.toml"\n' for c in COUNTIES)
    main.write_text(f'[city]\nid = "{CITY}"\nname_zh = "长沙市"\nname_en = "Changsha City"\n{counties}', "utf-8")
    return main
