"""The retention settings reach the chronograph's purge jobs; a retention the domain refuses stops the start."""

from __future__ import annotations

from datetime import timedelta

import pytest

from api.services import build_services
from api.settings import Settings, SettingsError


def test_the_retention_settings_are_read_and_checked(monkeypatch):
    # given retentions set in the environment
    monkeypatch.setenv("OUTBOX_RETENTION_HOURS", "72")
    monkeypatch.setenv("PUSH_DELIVERY_RETENTION_DAYS", "30")
    monkeypatch.setenv("NOTIFICATION_RETENTION_DAYS", "400")
    monkeypatch.setenv("REFRESH_TOKEN_RETENTION_DAYS", "1")
    # then the domain gets them
    kept = Settings.from_env().retention()
    assert (kept.outbox, kept.push_delivery, kept.notification, kept.refresh_token) == (
        timedelta(hours=72),
        timedelta(days=30),
        timedelta(days=400),
        timedelta(days=1),
    )
    # and an outbox kept less than two days is refused before anything starts
    monkeypatch.setenv("OUTBOX_RETENTION_HOURS", "47")
    with pytest.raises(SettingsError, match="the outbox keeps dispatched events at least"):
        Settings.from_env()


def test_the_server_and_the_worker_run_every_purge(tmp_path):
    services = build_services(Settings(database_url=f"sqlite://{tmp_path}/db.sqlite3", storage_url=f"fs://{tmp_path}"))
    names = {job.name for job in services.periodic}
    assert {"outbox.purge", "push_delivery.purge", "notification.purge", "refresh_token.purge"} <= names
