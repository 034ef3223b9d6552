"""`GET /metrics` on a real server: Prometheus's text format, figures that follow the hall, and who may read it."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.queue_server.conftest import Api

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(api: Api, **headers: str) -> Samples:
    answer = httpx.get(f"{api.server.url}/metrics", headers=headers, trust_env=False, timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    found: Samples = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_follow_the_hall(api: Api, board: object) -> None:
    before = scrape(api)
    assert value(before, "bianmin_queue_waiting", hall="qingshan", category="jisheng") == 0
    assert value(before, "bianmin_websocket_subscribers", hall="qingshan") == 0
    api.issue("jisheng")
    api.issue("jisheng")
    watching = board()  # type: ignore[operator]
    watching.recv()  # its snapshot: the subscriber is registered
    after = scrape(api)
    assert value(after, "bianmin_queue_waiting", hall="qingshan", category="jisheng") == 2
    assert value(after, "bianmin_today_issued", hall="qingshan", category="jisheng") == 2
    assert value(after, "bianmin_websocket_subscribers", hall="qingshan") == 1
    assert value(after, "bianmin_event_seq", hall="qingshan") == api.seq()
    route = {"method": "POST", "route": "/api/v1/halls/{hall}/tickets", "status": "201"}
    assert (
        value(after, "bianmin_http_requests_total", **route)
        == value(before, "bianmin_http_requests_total", **route) + 2
    )
    latency = {"method": "POST", "route": "/api/v1/halls/{hall}/tickets"}
    assert value(after, "bianmin_http_request_duration_seconds_count", **latency) >= 2

    clerk = api.open("liuxia", 1)
    api.ok(clerk, 1, "call-next")
    called = scrape(api)
    assert value(called, "bianmin_queue_waiting", hall="qingshan", category="jisheng") == 1
    assert value(called, "bianmin_today_called", hall="qingshan", category="jisheng") == 1
    assert ("bianmin_today_wait_seconds_mean", (("category", "jisheng"), ("hall", "qingshan"))) in called
    assert value(called, "bianmin_windows_open", hall="qingshan") == 1


def test_the_writer_says_where_its_time_goes(api: Api) -> None:
    before = scrape(api)
    api.issue("jisheng")
    api.issue("zonghe")
    after = scrape(api)

    def grew(stage: str) -> float:
        count = "bianmin_writer_stage_seconds_count"
        return value(after, count, stage=stage) - value(before, count, stage=stage)

    assert grew("queued") >= 2  # one a job: each issue waited in the writer's queue
    for stage in ("catch_up", "run", "commit", "publish"):  # one a transaction group (the sweeps' too)
        assert grew(stage) >= 1, stage
    commit = value(after, "bianmin_writer_stage_seconds_sum", stage="commit")
    assert commit > value(before, "bianmin_writer_stage_seconds_sum", stage="commit")  # a durable commit takes time
    assert value(after, "bianmin_writer_stage_seconds_bucket", stage="commit", le="+Inf") == value(
        after, "bianmin_writer_stage_seconds_count", stage="commit"
    )
    jobs = "bianmin_writer_group_jobs_sum"
    assert value(after, jobs) - value(before, jobs) >= 2  # every job was in a group


def test_kiosks_report_their_spooler(api: Api) -> None:
    report = {"printer_state": "paper_out", "queued": 3, "failed": 1}
    answer = api.http.post("/devices/me/status", json=report, headers=api.bearer(api.kiosk))
    assert answer.status_code == 204, answer.text
    samples = scrape(api)
    kiosk = {"hall": "qingshan", "device": "kiosk-1"}
    assert value(samples, "bianmin_kiosk_spooler_queued", **kiosk) == 3
    assert value(samples, "bianmin_kiosk_spooler_failed", **kiosk) == 1
    assert value(samples, "bianmin_kiosk_printer_state", state="paper_out", **kiosk) == 1
    assert value(samples, "bianmin_kiosk_printer_state", state="online", **kiosk) == 0
    for bad in ({**report, "queued": -1}, {**report, "printer_state": "on fire"}, {**report, "extra": 1}):
        api.error(api.http.post("/devices/me/status", json=bad, headers=api.bearer(api.kiosk)), 422)
    api.error(api.http.post("/devices/me/status", json=report), 401)
    assert value(scrape(api), "bianmin_kiosk_spooler_queued", **kiosk) == 3  # the bad reports changed nothing


def test_metrics_through_a_proxy_need_the_token(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    proxied = httpx.get(f"{api.server.url}/metrics", headers={"X-Forwarded-For": "203.0.113.9"}, trust_env=False)
    assert proxied.status_code == 403 and proxied.json()["error"]["code"] == "forbidden"
    monkeypatch.setenv("BIANMIN_METRICS_TOKEN", "scrape-secret-1")
    wrong = {"X-Forwarded-For": "203.0.113.9", "Authorization": "Bearer nope"}
    assert httpx.get(f"{api.server.url}/metrics", headers=wrong, trust_env=False).status_code == 403
    right = {"X-Forwarded-For": "203.0.113.9", "Authorization": "Bearer scrape-secret-1"}
    assert "bianmin_queue_waiting" in {name for name, _ in scrape(api, **right)}
