"""Fixtures for every test: a throwaway PostgreSQL cluster, started the first time a test asks for it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.pg import PgCluster, PgUnavailable


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A test that uses the cluster is a PostgreSQL test (-m postgresql selects it) without saying so itself.
    for item in items:
        if any(name.endswith("pg_cluster") for name in getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgresql)


def _cluster() -> PgCluster:
    """A new cluster (initdb, ~1 s), or the skip (the failure under CI=true) that says why there is none."""
    try:
        return PgCluster()
    except PgUnavailable as missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and the PostgreSQL tests cannot run: {missing}")
        pytest.skip(str(missing))


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """A running PostgreSQL cluster of this test session (of this xdist worker), removed at the end.

    Shared by every test of the session: a test must not stop it (use own_pg_cluster for that). Without
    the server binaries the PostgreSQL tests skip with the reason, except under CI=true, where they must
    run: there a missing PostgreSQL is a failure.
    """
    yield from _running_cluster()


@pytest.fixture
def own_pg_cluster() -> Iterator[PgCluster]:
    """A running cluster of the test's own (~1 s more), which it may stop, kill and start again: an outage."""
    yield from _running_cluster()


def _running_cluster() -> Iterator[PgCluster]:
    cluster = _cluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()
