"""Argon2 at its lowest cost for accounts a test makes: the default costs ~0.2 s of CPU a hash, and a verify as much."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from queue_server.services import accounts


def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash (and so later verify) with the smallest cost: a hash keeps its parameters, so a login is cheap too."""
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(accounts, "_hasher", hasher)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", hasher.hash("not a real password"))
