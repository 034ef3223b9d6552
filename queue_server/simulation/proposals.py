"""Changes to the server's wait estimation measured by the simulator and not adopted yet: paused windows.

The long-memory `ServiceTimes`, the fluid `estimate_waits` and learning from call to finish, proposed and
measured here first, are now the domain's own (`queue_server.domain.estimate`, `services/window_actions`).
What remains: a paused window counts as available and busy (it will be back) instead of not at all. On the
server this would be a change to `runtime.window_loads`, not to the domain.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from queue_server.domain.estimate import WindowLoad

__all__ = ["paused_as_busy"]


def paused_as_busy(loads: Sequence[WindowLoad], paused: Collection[int]) -> list[WindowLoad]:
    """The windows' loads with each paused window (by number) counted as available and busy."""
    return [WindowLoad(w.number, w.categories, True, True) if w.number in paused else w for w in loads]
