"""The settings of issue 21's smaller items reach what they govern: CLIENT_SIGNIN_FAILURES_PER_ADDRESS / _PER_ID the
machine clients' failure limits (domain/accounts/attempts.py), CPU_POOL_QUEUE the CPU pool's queue, MIGRATE_AT_START
whether `serve` migrates. api/services.py and api/manage.py read them by these names; this test runs once
api/settings.py reads them, and fails if a name differs (the readers would otherwise keep the defaults silently)."""

from __future__ import annotations

import dataclasses

import pytest

from api import manage
from api.services import _to_be_read
from api.settings import Settings
from domain.common import cpu

NAMES = {
    "CLIENT_SIGNIN_FAILURES_PER_ADDRESS": ("client_signin_failures_per_address", "7", 7),
    "CLIENT_SIGNIN_FAILURES_PER_ID": ("client_signin_failures_per_id", "3", 3),
    "CPU_POOL_QUEUE": ("cpu_pool_queue", "5", 5),
}
READ = {f.name for f in dataclasses.fields(Settings)}


@pytest.mark.skipif(
    not ({name for name, _, _ in NAMES.values()} | {"migrate_at_start"}) <= READ,
    reason="api/settings.py does not read issue 21's settings yet",
)
def test_the_settings_are_read_under_the_names_their_readers_use(monkeypatch):
    # given the defaults, then those of the embedded set-up
    defaults = Settings.from_env()
    assert _to_be_read(defaults, "client_signin_failures_per_address", -1) == 30
    assert _to_be_read(defaults, "client_signin_failures_per_id", -1) == 10
    assert _to_be_read(defaults, "cpu_pool_queue", -1) == cpu.DEFAULT_QUEUE
    assert manage._migrates_at_start(defaults) is True

    # given each set in the environment, then its reader gets it
    for variable, (_, text, _) in NAMES.items():
        monkeypatch.setenv(variable, text)
    monkeypatch.setenv("MIGRATE_AT_START", "0")
    settings = Settings.from_env()
    for name, _, value in NAMES.values():
        assert _to_be_read(settings, name, -1) == value
    assert manage._migrates_at_start(settings) is False
