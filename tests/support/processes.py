"""PalmTrade processes for tests: `python -m api.manage serve|worker` on the test database, as deployed.

Each runs with the test session's DATABASE_URL (its fresh SQLite file or PostgreSQL database) and the
environment's REDIS_URL, logs into the test's temporary directory, and is ended by its own process id.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from tortoise import connections
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from domain.accounts.models import User
from domain.common.storage import using_postgres
from tests.conftest import ROOT, SERVER_START, free_port

SECRET = "process-test-secret-0123456789abcdef0123"


class Process:
    """One `api.manage` command in its own process."""

    def __init__(self, command: str, database_url: str, tmp: Path, **env: str) -> None:
        self.command, self.tmp = command, tmp
        self.port = free_port()
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "PORT": str(self.port),
            "SEED_DEMO": "0",
            "SECRET_KEY": SECRET,
            "AUDIT_EXPORT_PATH": str(tmp / "heads.jsonl"),
            "LOG_LEVEL": "info",
            "PALMTRADE_PRODUCTION": "0",
            **env,
        }
        self.log_path = tmp / f"{command}-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Process:
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "api.manage", self.command],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def send(self, sig: signal.Signals) -> None:
        os.kill(self.pid, sig)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    async def exit_code(self, within: float) -> int:
        """The process's exit status once it has ended (AssertionError if it runs on after `within` s)."""
        deadline = time.monotonic() + within
        assert self.proc is not None
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.command} still running after {within} s\n{self.logs()}")
            await asyncio.sleep(0.05)
        return self.proc.returncode

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:] if self.log_path.exists() else ""

    async def logged(self, text: str, within: float = 30) -> None:
        deadline = time.monotonic() + within
        while text not in self.logs():
            assert self.alive(), self.logs()
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not logged within {within} s\n{self.logs()}")
            await asyncio.sleep(0.05)

    async def ready(self, within: float = SERVER_START) -> None:
        """Waits for GET /readyz to answer 200."""
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(timeout=5) as http:
            while time.monotonic() < deadline:
                assert self.alive(), self.logs()
                try:
                    if (await http.get(f"{self.base_url}/readyz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"{self.command} not ready within {within} s\n{self.logs()}")

    def stop(self) -> None:
        """Ends the process if it still runs (SIGTERM, then SIGKILL)."""
        if not self.alive():
            return
        assert self.proc is not None
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


class _Release(Exception):
    pass


@contextlib.asynccontextmanager
async def holding_user_row(user_id: int) -> AsyncIterator[asyncio.Event]:
    """Holds the user's row in an open transaction, as a slow writer would (PostgreSQL: the row lock;
    SQLite: the database's single write lock); set the event to roll it back and let waiting writers on."""
    release, held = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        with contextlib.suppress(_Release):
            async with in_transaction():
                await User.filter(id=user_id).update(failed_logins=F("failed_logins"))
                held.set()
                await release.wait()
                raise _Release  # roll back: nothing changed

    task = asyncio.create_task(hold())
    await asyncio.wait([task, asyncio.ensure_future(held.wait())], return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        task.result()
    try:
        yield release
    finally:
        release.set()
        await task


@contextlib.asynccontextmanager
async def holding_audit_chain(hold: bool = True) -> AsyncIterator[asyncio.Event]:
    """Holds the audit chain's advisory lock in an open transaction (PostgreSQL), so a dispatcher that claimed
    a batch waits in its first consumer with the batch in hand; with `hold` false nothing is held."""
    release, held = asyncio.Event(), asyncio.Event()

    async def hold_lock() -> None:
        async with in_transaction() as conn:
            await conn.execute_query("SELECT pg_advisory_xact_lock($1)", [zlib.crc32(b"audit_chain")])
            held.set()
            await release.wait()

    if not hold:
        yield release
        return
    task = asyncio.create_task(hold_lock())
    await asyncio.wait([task, asyncio.ensure_future(held.wait())], return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        task.result()
    try:
        yield release
    finally:
        release.set()
        await task


async def lock_waiters() -> int | None:
    """How many statements wait for a lock on PostgreSQL; None on SQLite (it cannot tell another process's)."""
    if not using_postgres():
        return None
    rows: list[dict[str, Any]] = await connections.get("default").execute_query_dict(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    return int(rows[0]["n"])


async def until_waiting(within: float = 10) -> None:
    """Until another process waits for a lock this test holds (PostgreSQL); a short pause on SQLite."""
    if await lock_waiters() is None:
        await asyncio.sleep(0.7)
        return
    deadline = time.monotonic() + within
    while (await lock_waiters() or 0) == 0:
        if time.monotonic() > deadline:
            raise AssertionError("nothing waited for the lock")
        await asyncio.sleep(0.05)
