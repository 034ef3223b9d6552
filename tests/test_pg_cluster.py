"""The tests' own PostgreSQL: durable across a kill, restartable on its port, refusing connections while down."""

from __future__ import annotations

import psycopg
import pytest

from tests.support.pg import USER, PgCluster


def connect(cluster: PgCluster, dbname: str) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(host="127.0.0.1", port=cluster.port, user=USER, dbname=dbname, connect_timeout=5)


def test_a_committed_row_survives_a_kill_and_the_cluster_comes_back_on_its_port(own_pg_cluster: PgCluster) -> None:
    cluster = own_pg_cluster
    url = cluster.create_database("hall")
    assert url == f"postgresql+psycopg://bianmin@127.0.0.1:{cluster.port}/hall"
    with connect(cluster, "hall") as conn:
        assert conn.execute("SHOW fsync").fetchone() == ("on",)
        conn.execute("CREATE TABLE tickets (number text)")
        conn.execute("INSERT INTO tickets VALUES ('A001')")
    port = cluster.port
    cluster.kill()  # no shutdown checkpoint: the next start replays the WAL
    with pytest.raises(psycopg.OperationalError):
        connect(cluster, "hall")
    cluster.start()
    assert cluster.port == port
    with connect(cluster, "hall") as conn:
        assert conn.execute("SELECT number FROM tickets").fetchall() == [("A001",)]
    cluster.stop()
    cluster.start()
    cluster.create_database("copy", template="hall")
    with connect(cluster, "copy") as conn:
        assert conn.execute("SELECT count(*) FROM tickets").fetchone() == (1,)
    cluster.drop_database("copy")
    with pytest.raises(psycopg.OperationalError, match="does not exist"):
        connect(cluster, "copy")


def test_database_names_must_be_plain_identifiers(pg_cluster: PgCluster) -> None:
    with pytest.raises(ValueError, match="not a plain database name"):
        pg_cluster.create_database("x; DROP DATABASE postgres")
