"""The deployment prefix of every Redis key and channel: one per deployment, whatever the spelling."""

from __future__ import annotations

import os

import pytest

from api.settings import Settings, SettingsError
from notifications.keyspace import Keyspace, default_prefix

DB = "postgres://palmtrade:secret@db.example.cn:5432/palmtrade"


def test_the_processes_of_one_deployment_derive_one_prefix():
    # given the URLs as the processes of one deployment may spell them (credentials, options, default
    # port, scheme alias, another address of the same Redis server)
    spellings = [
        ("redis://127.0.0.1:6379/1", DB),
        ("redis://cache:6380/1", "postgres://other@DB.example.cn/palmtrade?maxsize=20"),
        ("redis://:pw@127.0.0.1/1", "postgresql://palmtrade@db.example.cn:5432/palmtrade"),
        ("redis://127.0.0.1:6379?db=1", DB),
    ]

    # then they agree
    assert len({default_prefix(redis, database) for redis, database in spellings}) == 1


def test_another_redis_database_or_another_database_is_another_deployment():
    prefixes = {
        default_prefix("redis://127.0.0.1:6379/0", DB),
        default_prefix("redis://127.0.0.1:6379/1", DB),
        default_prefix("redis://127.0.0.1:6379/0", DB.replace("/palmtrade", "/palmtrade_b")),
        default_prefix("redis://127.0.0.1:6379/0", DB.replace("db.example.cn", "db2.example.cn")),
        default_prefix("redis://127.0.0.1:6379/0", DB.replace(":5432", ":5433")),
        default_prefix("redis://127.0.0.1:6379/0", "sqlite://data/palmtrade.sqlite3"),
        default_prefix("redis://127.0.0.1:6379/0", "sqlite://data/other.sqlite3"),
    }
    assert len(prefixes) == 7
    assert all(p.startswith("palmtrade:") for p in prefixes)


def test_an_sqlite_file_is_the_same_database_however_its_path_is_written():
    relative = "sqlite://data/palmtrade.sqlite3"
    absolute = f"sqlite://{os.path.abspath('data/palmtrade.sqlite3')}"
    assert default_prefix("redis://h/0", relative) == default_prefix("redis://h/0", absolute)


def test_redis_prefix_overrides_the_derived_one(monkeypatch):
    # given a deployment that names itself
    monkeypatch.setenv("REDIS_PREFIX", "qingdao-prod")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")

    # then every key and channel carries that name
    settings = Settings.from_env()
    assert settings.redis_namespace == "qingdao-prod"
    assert Keyspace("redis://127.0.0.1:6379/0", settings.redis_namespace).name("rl", "client:1", 7) == (
        "qingdao-prod:rl:client:1:7"
    )


def test_without_redis_prefix_the_prefix_is_derived(monkeypatch):
    monkeypatch.delenv("REDIS_PREFIX", raising=False)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    monkeypatch.setenv("DATABASE_URL", DB)
    assert Settings.from_env().redis_namespace == default_prefix("redis://127.0.0.1:6379/3", DB)


@pytest.mark.parametrize("value", ["two words", "rl:*", "[abc]", ":leading", "x" * 101])
def test_a_prefix_that_would_break_key_names_or_scan_patterns_is_refused(monkeypatch, value):
    monkeypatch.setenv("REDIS_PREFIX", value)
    with pytest.raises(SettingsError, match="REDIS_PREFIX"):
        Settings.from_env()
    with pytest.raises(ValueError, match="Redis prefix"):
        Keyspace("redis://127.0.0.1:6379/0", value)
