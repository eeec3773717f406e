"""The settings of issue 21's smaller items are read from the environment: CLIENT_SIGNIN_FAILURES_PER_ADDRESS /
_PER_ID (the machine clients' failure limits, domain/accounts/attempts.py), CPU_POOL_QUEUE (the CPU pool's queue),
MIGRATE_AT_START (whether `serve` migrates), FRAGMENT_CACHE_ENTRIES (schema/fragment_cache.py)."""

from __future__ import annotations

from api.settings import Settings
from domain.common import cpu


def test_the_settings_default_to_the_embedded_set_up_and_are_read_from_the_environment(monkeypatch):
    # given nothing set, then the defaults
    defaults = Settings.from_env()
    assert defaults.client_signin_failures_per_address == 30
    assert defaults.client_signin_failures_per_id == 10
    assert defaults.cpu_pool_queue == cpu.DEFAULT_QUEUE
    assert defaults.migrate_at_start is True
    assert defaults.fragment_cache_entries == 10_000

    # given each set in the environment, then it is read
    monkeypatch.setenv("CLIENT_SIGNIN_FAILURES_PER_ADDRESS", "7")
    monkeypatch.setenv("CLIENT_SIGNIN_FAILURES_PER_ID", "3")
    monkeypatch.setenv("CPU_POOL_QUEUE", "5")
    monkeypatch.setenv("MIGRATE_AT_START", "0")
    monkeypatch.setenv("FRAGMENT_CACHE_ENTRIES", "0")
    settings = Settings.from_env()
    assert settings.client_signin_failures_per_address == 7
    assert settings.client_signin_failures_per_id == 3
    assert settings.cpu_pool_queue == 5
    assert settings.migrate_at_start is False
    assert settings.fragment_cache_entries == 0
