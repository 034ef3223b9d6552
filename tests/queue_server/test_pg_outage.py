"""PostgreSQL goes away under a running server: clear 503 answers, nothing acknowledged that was not committed,
and the server recovers by itself when the database is back (its writer, its readers and its listener)."""

from __future__ import annotations

import time

import httpx
import pytest

from config.loader import default_config_path, load_config
from queue_server.server import open_store
from queue_server.services import accounts
from queue_server.store.writer import to_us
from tests.queue_server.test_cluster import BoardListener
from tests.support.clock import FakeClock
from tests.support.hashing import cheap_hashing
from tests.support.pg import PgCluster
from tests.support.server import HALL, PASSWORD, start_server

API = f"/api/v1/halls/{HALL}"


def test_an_outage_answers_503_and_the_server_recovers_by_itself(own_pg_cluster: PgCluster) -> None:
    url = own_pg_cluster.create_database("outage")
    store = open_store(load_config(default_config_path()), url)
    token = store.run_global_sync(lambda conn, now: accounts.add_device(conn, to_us(now), HALL, "kiosk-1"))
    store.close()
    server = start_server(url, FakeClock())
    headers = {"Authorization": f"Bearer {token}"}
    try:
        with httpx.Client(base_url=server.url + API, timeout=10, trust_env=False) as http:
            issued = http.post("/tickets", json={"category": "huji"}, headers={**headers, "Idempotency-Key": "k1"})
            assert issued.status_code == 201
            board = BoardListener(server.ws_url)

            own_pg_cluster.stop(mode="immediate")
            during = http.post("/tickets", json={"category": "huji"}, headers={**headers, "Idempotency-Key": "k2"})
            assert during.status_code == 503, during.text
            assert during.json()["error"]["code"] == "database_unavailable"
            assert "数据库暂时不可用" in during.json()["error"]["message"]
            assert during.headers["Retry-After"]
            assert http.get("/board").status_code == 200  # the read side still answers what it knew

            own_pg_cluster.start()
            deadline = time.monotonic() + 20
            while True:  # the kiosk's retry with the same key, until the database is back
                again = http.post("/tickets", json={"category": "huji"}, headers={**headers, "Idempotency-Key": "k2"})
                if again.status_code == 201 or time.monotonic() > deadline:
                    break
                assert again.status_code == 503, again.text
                time.sleep(0.2)
            assert again.status_code == 201, again.text
            assert again.json()["number"] == "H002"  # the refused request took no number
            board.wait_for(2)
            board.close()
            assert board.seqs[-1] == 2  # the board heard the new ticket after the outage

            status = http.get(f"/tickets/{again.json()['track_token']}")
            assert status.status_code == 200 and status.json()["ahead"] == 1
    finally:
        server.stop()


def test_a_report_during_an_outage_answers_503_and_after_it_its_figures(own_pg_cluster: PgCluster) -> None:
    """The report process (store/apart.py) has its own connection: its outage is a 503 too, and it recovers."""
    url = own_pg_cluster.create_database("report_outage")
    store = open_store(load_config(default_config_path()), url)
    kiosk = store.run_global_sync(lambda conn, now: accounts.add_device(conn, to_us(now), HALL, "kiosk-1"))
    with pytest.MonkeyPatch.context() as monkeypatch:
        cheap_hashing(monkeypatch)
        store.run_global_sync(
            lambda conn, now: accounts.add_user(conn, to_us(now), "director", "主任", accounts.Role.MANAGER, PASSWORD)
        )
    store.close()
    server = start_server(url, FakeClock())
    try:
        with httpx.Client(base_url=server.url + API, timeout=10, trust_env=False) as http:
            login = http.post(f"{server.url}/api/v1/auth/login", json={"username": "director", "password": PASSWORD})
            manager = {"Authorization": f"Bearer {login.json()['access_token']}"}
            issued = http.post(
                "/tickets",
                json={"category": "huji"},
                headers={"Authorization": f"Bearer {kiosk}", "Idempotency-Key": "k1"},
            )
            assert issued.status_code == 201, issued.text
            first = http.get("/reports", params={"period": "month"}, headers=manager)
            assert first.status_code == 200 and first.json()["totals"]["issued"] == 1, first.text

            own_pg_cluster.stop(mode="immediate")
            during = http.get("/reports", params={"period": "month"}, headers=manager)
            assert during.status_code == 503, during.text
            assert during.json()["error"]["code"] == "database_unavailable"
            assert "数据库暂时不可用" in during.json()["error"]["message"]

            own_pg_cluster.start()
            deadline = time.monotonic() + 20
            while True:
                again = http.get("/reports", params={"period": "month"}, headers=manager)
                if again.status_code == 200 or time.monotonic() > deadline:
                    break
                assert again.status_code == 503, again.text
                time.sleep(0.2)
            assert again.status_code == 200, again.text
            assert again.json()["totals"]["issued"] == 1
    finally:
        server.stop()
