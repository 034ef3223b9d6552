"""Fan-out of a hall's public messages to its websocket subscribers, each message serialized once.

Publishing is a plain loop over the subscribers that writes the same text to each socket, the
fastest fan-out asyncio allows (no task or queue per message). A send that would wait — the
client's socket is full, it does not read — is handed to a task of that subscriber alone, and the
subscriber's later messages queue behind it; a subscriber whose queue grows too long is closed (its
client resumes with ?since=). So a stalled phone never delays the hall's boards.

A subscriber may follow one category (a phone: see topics.py); a message is sent to it only if it concerns
that category, so the broker works out each message's topic once per publish, and only while such a
subscriber is connected.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from queue_server.topics import Topic, follows

SUBSCRIBER_BACKLOG = 500
TRY_AGAIN_LATER = 1013

SendText = Callable[[str], Awaitable[None]]
Close = Callable[[int, str], Awaitable[None]]


async def _finish(coro: Coroutine[Any, Any, None], blocker: Any) -> None:
    """Drive a coroutine that was started by hand and is waiting on `blocker`, to its end."""
    while True:
        try:
            if blocker is None:  # a bare yield (asyncio.sleep(0)): just let the loop run once
                await asyncio.sleep(0)
            else:
                await blocker
        except BaseException as error:
            try:
                blocker = coro.throw(error)
            except StopIteration:
                return
            continue
        try:
            blocker = coro.send(None)
        except StopIteration:
            return


class Subscriber:
    """One websocket following a hall: what it was sent last, and what waits to be sent."""

    def __init__(self, hall: str, send_text: SendText, close: Close, category: str | None = None) -> None:
        self.hall = hall
        self.category = category  # None: the whole hall (a board); a code: that category's follower (a phone)
        self._send_text = send_text
        self._close = close
        self.last_seq = -1
        self.ready = False  # False while the handler sends the snapshot or the missed events
        self.finished = False
        self._pending: deque[tuple[int, str]] = deque()
        self._drain: asyncio.Task[None] | None = None
        self._closing: asyncio.Future[None] | None = None

    def start(self, last_seq: int) -> None:
        """The backlog up to `last_seq` was sent: from now on, send live messages."""
        self.last_seq = last_seq
        self.ready = True
        pending, self._pending = list(self._pending), deque()
        self.offer(pending)

    def offer(self, messages: list[tuple[int, str]]) -> None:
        if self.finished:
            return
        if not self.ready or self._drain is not None:
            self._pending.extend(messages)
            if len(self._pending) > SUBSCRIBER_BACKLOG:
                self.fail(TRY_AGAIN_LATER, f"too far behind: reconnect with ?since={self.last_seq}")
            return
        for i, (seq, text) in enumerate(messages):
            if seq <= self.last_seq:
                continue
            if not self._send_now(seq, text):
                self._pending.extend(messages[i + 1 :])
                return

    def _send_now(self, seq: int, text: str) -> bool:
        """Send at once if the socket takes it without waiting; otherwise finish in a task. True if sent."""
        coro = self._send_text(text)
        assert isinstance(coro, Coroutine)
        try:
            blocker = coro.send(None)
        except StopIteration:
            self.last_seq = seq
            return True
        except Exception:  # the connection is gone; its handler cleans up
            self.finished = True
            return False
        self._drain = asyncio.ensure_future(self._resume(coro, blocker, seq))
        return False

    async def _resume(self, coro: Coroutine[Any, Any, None], blocker: Any, seq: int) -> None:
        try:
            await _finish(coro, blocker)
            self.last_seq = seq
            while self._pending and not self.finished:
                seq, text = self._pending.popleft()
                if seq > self.last_seq:
                    await self._send_text(text)
                    self.last_seq = seq
        except Exception:
            self.finished = True
        finally:
            self._drain = None

    def fail(self, code: int, reason: str) -> None:
        """Close this subscriber's connection with a code and a reason; nobody else is affected."""
        if self.finished:
            return
        self.finished = True
        self._pending.clear()
        self._closing = asyncio.ensure_future(self._close(code, reason))

    def cancel(self) -> None:
        self.finished = True
        if self._drain is not None:
            self._drain.cancel()


class Broker:
    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscriber]] = {}
        self._followers: dict[str, int] = {}  # per hall, how many subscribers follow one category

    def subscribe(self, hall: str, send_text: SendText, close: Close, category: str | None = None) -> Subscriber:
        subscriber = Subscriber(hall, send_text, close, category)
        self._subscribers.setdefault(hall, set()).add(subscriber)
        if category is not None:
            self._followers[hall] = self._followers.get(hall, 0) + 1
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        subscriber.cancel()
        subscribers = self._subscribers.get(subscriber.hall, set())
        if subscriber in subscribers:
            subscribers.discard(subscriber)
            if subscriber.category is not None:
                self._followers[subscriber.hall] -= 1

    def count(self, hall: str) -> int:
        return len(self._subscribers.get(hall, ()))

    def publish(
        self, hall: str, messages: list[tuple[int, str]], topic_of: Callable[[str], Topic] | None = None
    ) -> None:
        """Send (seq, text) pairs to every subscriber of the hall that follows them; runs on the event loop.

        `topic_of` gives a message's topic (topics.py); without it every subscriber is sent every message.
        """
        subscribers = tuple(self._subscribers.get(hall, ()))
        if topic_of is None or not self._followers.get(hall):
            for subscriber in subscribers:
                subscriber.offer(messages)
            return
        topics = [topic_of(text) for _, text in messages]
        share: dict[str | None, list[tuple[int, str]]] = {None: messages}
        for subscriber in subscribers:
            category = subscriber.category
            if category not in share:
                share[category] = [m for m, t in zip(messages, topics, strict=True) if follows(category, t)]
            if share[category]:
                subscriber.offer(share[category])
