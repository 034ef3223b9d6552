"""The broker's fan-out: in order, once, and a stalled subscriber never holds up the others."""

from __future__ import annotations

import asyncio

from queue_server import broker as broker_module
from queue_server.broker import Broker


class FakeSocket:
    """Records what it is sent; while `stalled`, a send waits (a client that does not read)."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.closed: tuple[int, str] | None = None
        self.writable = asyncio.Event()
        self.writable.set()

    async def send_text(self, text: str) -> None:
        await self.writable.wait()
        self.received.append(text)

    async def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)


def messages(first: int, last: int) -> list[tuple[int, str]]:
    return [(seq, f"m{seq}") for seq in range(first, last + 1)]


def subscribe(broker: Broker, socket: FakeSocket, last_seq: int = 0):  # type: ignore[no-untyped-def]
    subscriber = broker.subscribe("qingshan", socket.send_text, socket.close)
    subscriber.start(last_seq)
    return subscriber


def test_every_subscriber_gets_each_message_once_in_order_without_a_task() -> None:
    async def scenario() -> None:
        broker = Broker()
        sockets = [FakeSocket() for _ in range(3)]
        for socket in sockets:
            subscribe(broker, socket)
        broker.publish("qingshan", messages(1, 2))
        broker.publish("qingshan", [(2, "m2"), (3, "m3")])  # seq 2 again: not sent twice
        # Sent synchronously inside publish: no event-loop turn was needed.
        assert all(s.received == ["m1", "m2", "m3"] for s in sockets)
        broker.publish("other-hall", messages(4, 4))
        assert all(s.received == ["m1", "m2", "m3"] for s in sockets)

    asyncio.run(scenario())


def test_messages_published_before_start_wait_and_skip_what_the_backlog_sent() -> None:
    async def scenario() -> None:
        broker = Broker()
        socket = FakeSocket()
        subscriber = broker.subscribe("qingshan", socket.send_text, socket.close)
        broker.publish("qingshan", messages(5, 7))  # arrives while the handler sends the backlog up to 6
        assert socket.received == []
        subscriber.start(6)
        assert socket.received == ["m7"]

    asyncio.run(scenario())


def test_a_stalled_subscriber_does_not_hold_up_the_others_and_catches_up_in_order() -> None:
    async def scenario() -> None:
        broker = Broker()
        stalled, healthy = FakeSocket(), FakeSocket()
        subscribe(broker, stalled)
        subscribe(broker, healthy)
        stalled.writable.clear()
        broker.publish("qingshan", messages(1, 3))
        broker.publish("qingshan", messages(4, 5))
        assert healthy.received == ["m1", "m2", "m3", "m4", "m5"]
        assert stalled.received == []
        stalled.writable.set()
        for _ in range(20):
            await asyncio.sleep(0)
        assert stalled.received == ["m1", "m2", "m3", "m4", "m5"]
        broker.publish("qingshan", messages(6, 6))
        assert stalled.received[-1] == "m6"

    asyncio.run(scenario())


def test_a_subscriber_too_far_behind_is_closed_with_a_reason(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(broker_module, "SUBSCRIBER_BACKLOG", 5)

    async def scenario() -> None:
        broker = Broker()
        stalled, healthy = FakeSocket(), FakeSocket()
        subscribe(broker, stalled)
        subscribe(broker, healthy)
        stalled.writable.clear()
        for seq in range(1, 10):
            broker.publish("qingshan", messages(seq, seq))
        await asyncio.sleep(0)
        assert stalled.closed is not None
        code, reason = stalled.closed
        assert code == 1013
        assert "reconnect with ?since=0" in reason
        assert healthy.received == [f"m{seq}" for seq in range(1, 10)]
        assert healthy.closed is None

    asyncio.run(scenario())


def test_unsubscribed_sockets_get_nothing_more() -> None:
    async def scenario() -> None:
        broker = Broker()
        socket = FakeSocket()
        subscriber = subscribe(broker, socket)
        broker.publish("qingshan", messages(1, 1))
        broker.unsubscribe(subscriber)
        broker.publish("qingshan", messages(2, 2))
        assert socket.received == ["m1"]
        assert broker.count("qingshan") == 0

    asyncio.run(scenario())
