"""The garbage collector of a server process (api/gc_tuning.py): frozen after start-up, its youngest generation's
threshold set, both put back when the app stops; the settings that choose it."""

from __future__ import annotations

import gc
import subprocess
import sys

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


def test_a_process_started_by_manage_collects_nothing_until_it_has_started_and_then_collects():
    # given `python -m api.manage` as serve and the worker start: the collector off while the domain is imported
    code = (
        "import gc, runpy, sys\n"
        "sys.argv = ['api.manage', '--help']\n"
        "try:\n"
        "    runpy.run_module('api.manage', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(gc.isenabled())\n"
        "from api import gc_tuning\n"
        "gc_tuning.settle(freeze=False, gen0_threshold=0)\n"
        "print(gc.isenabled())\n"
    )
    printed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)

    # then it is off through the imports (the parser's --help leaves before main turns it on for a command), and on
    # once the process settles as serve and the worker do
    assert printed.stdout.split()[-2:] == ["False", "True"]


def test_a_command_other_than_serve_or_the_worker_collects_as_usual():
    # given the collector off, as `python -m api.manage` starts; when a command other than serve or the worker runs
    # (its database work left out); then the collector is on for it
    code = (
        "import gc, sys\n"
        "from unittest import mock\n"
        "import api.manage as m\n"
        "gc.disable()\n"
        "async def no_db(settings, job):\n"
        "    job.close()\n"
        "    return {'ok': True}\n"
        "with mock.patch.object(m, '_with_db', no_db):\n"
        "    m.main(['verify-audit'])\n"
        "print(gc.isenabled())\n"
    )
    printed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert printed.stdout.split()[-1:] == ["True"], printed.stderr
