"""Fan-out of a hall's public messages to its websocket subscribers, each serialized once.

Each subscriber has a bounded queue drained by its own long-lived sender; publishing is a plain loop
of put_nowait. A subscriber that falls too far behind is dropped (its client resumes with ?since=),
so a slow phone never delays the hall's boards.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

SUBSCRIBER_BACKLOG = 500
OVERFLOWED = -1  # sentinel seq: the subscriber fell too far behind
RECEIVER_DONE = -2  # sentinel seq: the client side of the connection ended


@dataclass(eq=False)
class Subscriber:
    hall: str
    queue: asyncio.Queue[tuple[int, str]] = field(default_factory=lambda: asyncio.Queue(SUBSCRIBER_BACKLOG))
    overflowed: bool = False

    def wake(self, sentinel: int) -> None:
        """Put a sentinel in the queue even when it is full (dropping the oldest message)."""
        if self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait((sentinel, ""))


class Broker:
    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscriber]] = {}

    def subscribe(self, hall: str) -> Subscriber:
        subscriber = Subscriber(hall)
        self._subscribers.setdefault(hall, set()).add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.get(subscriber.hall, set()).discard(subscriber)

    def count(self, hall: str) -> int:
        return len(self._subscribers.get(hall, ()))

    def publish(self, hall: str, messages: list[tuple[int, str]]) -> None:
        """Hand (seq, text) pairs to every subscriber of the hall; must run on the event loop."""
        for subscriber in tuple(self._subscribers.get(hall, ())):
            if subscriber.overflowed:
                continue
            for item in messages:
                try:
                    subscriber.queue.put_nowait(item)
                except asyncio.QueueFull:
                    # Wake the sender so it can close the connection and let the client resume.
                    subscriber.overflowed = True
                    subscriber.wake(OVERFLOWED)
                    break
