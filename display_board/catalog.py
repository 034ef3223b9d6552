"""What a board needs from the hall's catalogue (category names, which window serves what), and fetching it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

HTTP_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class CategoryInfo:
    code: str
    prefix: str
    name_zh: str
    name_en: str
    colour: str


@dataclass(frozen=True)
class HallInfo:
    """The static facts of a hall a board shows; empty until the catalogue has been fetched."""

    categories: dict[str, CategoryInfo] = field(default_factory=dict)  # in the hall's order
    window_categories: dict[int, tuple[str, ...]] = field(default_factory=dict)

    @property
    def known(self) -> bool:
        return bool(self.categories)


def parse_catalog(data: Mapping[str, Any]) -> HallInfo:
    """HallInfo from the JSON of GET /api/v1/halls/{hall}/catalog."""
    return HallInfo(
        categories={
            c["code"]: CategoryInfo(c["code"], c["prefix"], c["name_zh"], c["name_en"], c.get("colour", "#2E7D32"))
            for c in data["categories"]
        },
        window_categories={int(w["number"]): tuple(w["categories"]) for w in data["windows"]},
    )


def api_base(server: str) -> str:
    """The HTTP base URL of a server given as http(s):// (or ws(s)://, as a websocket user may)."""
    base = server.rstrip("/")
    for ws, http in (("ws://", "http://"), ("wss://", "https://")):
        if base.startswith(ws):
            return http + base[len(ws) :]
    return base


async def fetch_catalog(client: httpx.AsyncClient, server: str, hall: str) -> HallInfo:
    response = await client.get(f"{api_base(server)}/api/v1/halls/{hall}/catalog", timeout=HTTP_TIMEOUT_S)
    response.raise_for_status()
    return parse_catalog(response.json())


class HallChoiceError(Exception):
    """The server has no hall, or several and the board was not told which."""


async def resolve_hall(client: httpx.AsyncClient, server: str, hall: str | None) -> str:
    """The hall to show: the one asked for (checked), or the server's only hall."""
    response = await client.get(f"{api_base(server)}/api/v1/halls", timeout=HTTP_TIMEOUT_S)
    response.raise_for_status()
    ids = [h["id"] for h in response.json()]
    if hall is not None:
        if hall not in ids:
            raise HallChoiceError(f"the server has no hall {hall!r}; its halls: {', '.join(ids) or 'none'}")
        return hall
    if len(ids) != 1:
        raise HallChoiceError(f"the server has {len(ids)} halls ({', '.join(ids)}): choose one with --hall")
    return str(ids[0])
