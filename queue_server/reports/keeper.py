"""Keeping the stored report days filled in the background, so no manager's report folds a month cold."""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from zoneinfo import ZoneInfo

from queue_server.domain.numbering import service_day
from queue_server.reports.days import store_closed_days
from queue_server.reports.months import store_closed_months
from queue_server.store.writer import Store, to_us

log = logging.getLogger(__name__)

FIRST_S = 30.0  # after start-up: the closed days of the last weeks (an upgraded database has none stored)
EVERY_S = 900.0  # then: a day can be stored from 06:15 the next morning (see reports/days.py)


async def keep_report_days(store: Store, first_s: float = FIRST_S, every_s: float = EVERY_S) -> None:
    """Store every hall's closed days, on reader connections (never the writer); runs until cancelled.

    Several processes may do it at once: a day is stored once (insert-or-ignore), and recomputing one gives
    the same content. At a county, the townships' days too (from their shipped events): the county's reports
    across halls read them. Then each hall's closed months (months.py): a report by hall or by county of a
    year (a city's rollup) reads twelve rows a hall.
    """
    await asyncio.sleep(first_s)
    while True:
        for hall in (*store.config.halls, *store.config.townships):
            now = store.clock()
            day = service_day(now, ZoneInfo(hall.timezone))
            fill = partial(store_closed_days, hall=hall, day=day, now_us=to_us(now))
            fill_months = partial(store_closed_months, hall=hall, day=day, now_us=to_us(now))
            try:
                stored = await store.read(fill)
                months = await store.read(fill_months)
            except Exception:  # the database may be away: the reports fold what is missing meanwhile
                log.warning("storing the report days of hall %s failed", hall.id, exc_info=True)
                continue
            if stored or months:
                log.info("stored %d report day(s) and %d month(s) of hall %s", stored, months, hall.id)
        await asyncio.sleep(every_s)
