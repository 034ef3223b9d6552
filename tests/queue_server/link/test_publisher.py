"""The county's published versions and a township's record of them, on each backend."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from config import documents
from config.schema import HallConfig
from queue_server.link import publisher
from queue_server.link.downlink import Received, received_rows, save_received
from queue_server.server import open_store
from queue_server.store.writer import to_us


def test_identical_content_makes_no_new_version_and_each_version_stays(
    new_db: Callable[..., str | Path], hall_config: HallConfig
) -> None:
    store = open_store(hall_config, new_db())
    try:
        content, count = publisher.contents(hall_config)["catalogue"]
        smaller = documents.catalogue_content(hall_config.hall("qingshan").items[:3])

        def publish(text: str) -> publisher.Published:
            return store.run_global_sync(
                lambda conn, now: publisher.publish(conn, to_us(now), "catalogue", text, count, "changqing"),
                invalidates=False,
            )

        first, again, second = publish(content), publish(content), publish(smaller)
        assert (first.version, first.new, again.version, again.new, second.version) == (1, True, 1, False, 2)
        index = store._read(publisher.index)
        assert index.calendar is None and index.catalogue is not None
        assert (index.catalogue.version, index.catalogue.sha256) == (2, second.sha256)
        one = store._read(lambda conn: publisher.body(conn, "catalogue", 1))
        assert one is not None and documents.sha256(one.encode()) == first.sha256 and one.endswith(content)
        assert "version = 1" in one and 'county = "changqing"' in one
        assert store._read(lambda conn: publisher.body(conn, "catalogue", 3)) is None
    finally:
        store.close()


def test_a_township_keeps_one_staged_and_one_refused_version_per_kind(
    new_db: Callable[..., str | Path], hall_config: HallConfig
) -> None:
    store = open_store(hall_config, new_db())
    try:
        for received, drop in [
            (Received("qingshan", "catalogue", "refused", 3, "c" * 64, error="bad"), False),
            (
                Received("qingshan", "catalogue", "staged", 2, "b" * 64, hall_config.calendar[0].holidays[0].start),
                False,
            ),
            (Received("qingshan", "catalogue", "staged", 4, "d" * 64), True),  # newer and good: version 3 is history
        ]:
            save = partial(save_received, received=received, drop_older_refusals=drop)
            store.run_global_sync(lambda conn, now, save=save: save(conn, to_us(now)))
        assert store._read(received_rows) == [Received("qingshan", "catalogue", "staged", 4, "d" * 64)]
    finally:
        store.close()
