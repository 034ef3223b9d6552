"""Where the writer's time goes, for `GET /metrics`: a histogram of each stage of its transactions.

A change waits in the writer's queue (`queued`, per job), then its group of jobs locks the halls it touches
(`lock`: on PostgreSQL it waits there while another process holds a hall), catches their runtimes up with what
other processes wrote (`catch_up`), runs the jobs (`run`), commits durably (`commit`: the fsync), and hands the
events to the subscribers and the answers to the callers (`publish`). A county center's operator reads from it
whether calls wait for the database, for the other process, or for this process's own work; bench/county_day.py
prints it for each server process.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Histogram

STAGES = ("queued", "lock", "catch_up", "run", "commit", "publish")
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class WriterStages:
    """This process's writer: seconds per stage (one observation per transaction group; `queued` per job)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        seconds = Histogram(
            "bianmin_writer_stage_seconds",
            "time the writer's transactions spend in each stage (queued: per job, the others: per group)",
            ["stage"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.group_jobs = Histogram(
            "bianmin_writer_group_jobs",
            "jobs sharing one transaction and one durable commit",
            buckets=(1, 2, 4, 8, 16, 32, 64),
            registry=self.registry,
        )
        self._stage = {stage: seconds.labels(stage) for stage in STAGES}

    def observe(self, stage: str, seconds: float) -> None:
        self._stage[stage].observe(seconds)
