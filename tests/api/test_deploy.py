"""The production layout: processes started together, the settings they need, the files that start them."""

from __future__ import annotations

import asyncio
import os
import re
import sys
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest

from api.manage import main
from tests.conftest import ROOT


@pytest.mark.skipif(
    not (os.environ.get("DATABASE_URL") or "").startswith("postgres"),
    reason="several processes migrate one database only on PostgreSQL",
)
async def test_servers_started_together_migrate_one_after_the_other():
    import asyncpg

    # given a fresh database and three processes migrating it at once, as servers starting together do
    parts = urlsplit(os.environ["DATABASE_URL"])
    name = f"{(parts.path.lstrip('/') or 'palmtrade')}_m{uuid.uuid4().hex[:8]}"
    admin = urlunsplit(("postgresql", parts.netloc, "/postgres", "", ""))
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    try:
        env = {**os.environ, "DATABASE_URL": urlunsplit(("postgres", parts.netloc, f"/{name}", "", ""))}

        async def migrate() -> tuple[int, bytes]:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "api.manage", "migrate", cwd=ROOT, env=env,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
            out, _ = await proc.communicate()
            return proc.returncode or 0, out

        # when they run
        results = await asyncio.gather(*(migrate() for _ in range(3)))

        # then every one succeeds (the later ones find nothing left to do)
        for code, out in results:
            assert code == 0, out.decode(errors="replace")[-3000:]
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


@pytest.mark.parametrize(("command", "run_workers"), [("worker", "1"), ("serve", "0")])
def test_production_refuses_to_split_the_work_without_redis(monkeypatch, capsys, command, run_workers):
    # given production settings without REDIS_URL
    monkeypatch.setenv("PALMTRADE_PRODUCTION", "1")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("CLAMD_ADDRESS", "tcp://127.0.0.1:3310")
    monkeypatch.setenv("SMS_PROVIDERS", "aliyun,tencent")
    monkeypatch.setenv("KEY_ENCRYPTION_KEYS", "kek-1:" + "A" * 43)
    monkeypatch.setenv("RUN_WORKERS", run_workers)
    monkeypatch.delenv("REDIS_URL", raising=False)

    # when a worker, or a server without workers, is started
    with pytest.raises(SystemExit) as exited:
        main([command])

    # then it refuses, saying why
    assert exited.value.code == 2
    assert "needs REDIS_URL" in capsys.readouterr().err


def test_every_setting_is_in_the_readme_and_the_deploy_files_name_only_settings():
    # given the variables Settings.from_env reads
    source = (ROOT / "api" / "settings.py").read_text()
    read = set(re.findall(r'(?:environ\.get|_int|_bool|_roles)\(\s*"([A-Z][A-Z0-9_]+)"', source))
    assert {"SHUTDOWN_DRAIN_SECONDS", "SHUTDOWN_GRACE_SECONDS", "READINESS_TIMEOUT", "WORKER_HEALTH_PORT"} <= read

    # then the README's settings table names each
    readme = (ROOT / "README.md").read_text()
    missing = sorted(v for v in read if f"`{v}`" not in readme)
    assert not missing, f"settings missing from README.md: {missing}"

    # and the deploy files set nothing else (systemd's own variables aside)
    deploy = ROOT / "api" / "deploy"
    named: set[str] = set()
    for path in deploy.iterdir():
        named |= set(re.findall(r"\b([A-Z][A-Z0-9_]{2,})=", path.read_text()))
    assert {"PORT", "RUN_WORKERS", "WORKER_HEALTH_PORT", "SHUTDOWN_GRACE_SECONDS"} <= named
    named -= {"READY", "STOPPING", "WATCHDOG"}  # systemd's notify states, named in comments
    assert named <= read, sorted(named - read)
