"""Production names its key-encryption keys; development makes a private key file on first run."""

from __future__ import annotations

import os
import stat

import pytest

from api.settings import Settings, SettingsError


def _production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PALMTRADE_PRODUCTION", "1")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("CLAMD_ADDRESS", "tcp://127.0.0.1:3310")
    monkeypatch.setenv("SMS_PROVIDERS", "aliyun")


def test_production_refuses_to_start_without_a_key_encryption_key(monkeypatch):
    # given production settings naming no KEK
    _production(monkeypatch)
    monkeypatch.delenv("KEY_ENCRYPTION_KEYS", raising=False)
    monkeypatch.delenv("KEY_ENCRYPTION_KEY_FILE", raising=False)
    # then the settings refuse, saying which to set
    with pytest.raises(SettingsError, match="KEY_ENCRYPTION_KEYS or KEY_ENCRYPTION_KEY_FILE is required"):
        Settings.from_env()


def test_a_malformed_key_encryption_key_is_refused(monkeypatch):
    _production(monkeypatch)
    monkeypatch.setenv("KEY_ENCRYPTION_KEYS", "kek-1:tooshort")
    with pytest.raises(SettingsError, match="KEY_ENCRYPTION_KEYS"):
        Settings.from_env()


def test_production_does_not_make_a_missing_key_file(monkeypatch, tmp_path):
    # given production naming a key file that is not there
    _production(monkeypatch)
    monkeypatch.setenv("KEY_ENCRYPTION_KEY_FILE", str(tmp_path / "kek"))
    settings = Settings.from_env()
    # then the ring cannot be built (a new KEK would seal nothing the other processes could open)
    with pytest.raises(ValueError, match="does not exist"):
        settings.kek_ring()
    assert not (tmp_path / "kek").exists()


def test_development_makes_the_key_file_once_readable_by_its_owner_only(tmp_path):
    # given development settings pointing at a fresh folder
    settings = Settings(key_encryption_key_file=str(tmp_path / "data" / "kek"))
    # when the ring is built twice
    first, again = settings.kek_ring(), settings.kek_ring()
    # then one KEK was made, in a file of mode 0600
    assert first.current.id == again.current.id
    assert stat.S_IMODE(os.stat(tmp_path / "data" / "kek").st_mode) == 0o600
