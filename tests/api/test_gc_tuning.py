"""The garbage collector of a server process (api/gc_tuning.py): frozen after start-up, its youngest generation's
threshold set, both put back when the app stops; the settings that choose it."""

from __future__ import annotations

import gc

import pytest

from api import gc_tuning
from api.settings import Settings, SettingsError


def test_settle_freezes_what_start_up_made_and_restore_puts_the_collector_back():
    # given the collector as the test process has it
    threshold = gc.get_threshold()
    frozen = gc.get_freeze_count()

    # when settled with freezing and a threshold
    collector = gc_tuning.settle(freeze=True, gen0_threshold=threshold[0] + 1234)

    # then what was alive is frozen and the youngest generation's threshold is set, the others kept
    try:
        assert gc.get_freeze_count() > frozen
        assert gc.get_threshold() == (threshold[0] + 1234, *threshold[1:])
    finally:
        collector.restore()

    # and restored, nothing stays frozen and the thresholds are as they were
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == threshold


def test_settle_without_freezing_or_threshold_changes_nothing():
    threshold = gc.get_threshold()
    collector = gc_tuning.settle(freeze=False, gen0_threshold=0)
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == threshold
    collector.restore()
    assert gc.get_threshold() == threshold


def test_the_gc_settings_default_to_freezing_and_7000_and_are_read_from_the_environment(monkeypatch):
    # given nothing set, then the defaults
    defaults = Settings.from_env()
    assert defaults.gc_freeze is True
    assert defaults.gc_gen0_threshold == 7000

    # given each set, then it is read
    monkeypatch.setenv("GC_FREEZE", "0")
    monkeypatch.setenv("GC_GEN0_THRESHOLD", "0")
    settings = Settings.from_env()
    assert settings.gc_freeze is False
    assert settings.gc_gen0_threshold == 0

    # given a negative threshold, then the process does not start
    monkeypatch.setenv("GC_GEN0_THRESHOLD", "-1")
    with pytest.raises(SettingsError, match="GC_GEN0_THRESHOLD"):
        Settings.from_env()
