"""The private signing keys at rest: sealed under a key-encryption key that is not in the database."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tortoise import connections

from domain.accounts.key_encryption import KekRing, LocalKek, SigningKeyUnreadable, default_ring, new_entry
from domain.accounts.models import SigningKey
from domain.accounts.tokens import InvalidToken, KeyRing, TokenPolicy, rewrap_keys, rotate

ROOT = Path(__file__).resolve().parents[3]


def _elsewhere(kek_id: str = "elsewhere") -> KekRing:
    return KekRing([LocalKek(kek_id, os.urandom(32))])


async def _raw_rows() -> list[dict[str, Any]]:
    _, rows = await connections.get("default").execute_query("SELECT * FROM signing_key")
    return [dict(r) for r in rows]


def _json_members(value: Any) -> set[str]:
    """Every member name of every JSON object a raw column value holds."""
    try:
        parsed = json.loads(value) if isinstance(value, str | bytes) else value
    except ValueError:
        return set()
    found: set[str] = set()
    stack = [parsed]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            found |= set(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


async def _kept() -> list[SigningKey]:
    return list(await SigningKey.all())


async def _restore(kept: list[SigningKey]) -> None:
    """signing_key outlives a test (other tests' rings read it): put it back as it was."""
    await SigningKey.exclude(kid__in=[r.kid for r in kept]).delete()
    for r in kept:
        await SigningKey.filter(kid=r.kid).update(sealed_jwk=r.sealed_jwk, kek_id=r.kek_id, retires_at=r.retires_at)


async def test_the_database_row_holds_no_private_key_material(db):
    # given the platform's signing keys, loaded and able to sign
    ring = KeyRing()
    await ring.load()
    token, _ = ring.issue("user:1", {"roles": ["operator"]})
    assert ring.verify(token)["sub"] == "user:1"

    # when someone reads the signing_key table directly
    rows = await _raw_rows()

    # then no column is a JWK with a private member, and the private scalar appears nowhere
    assert rows
    for row in rows:
        for value in row.values():
            assert not _json_members(value) & {"d", "p", "q", "k"}, row
        dump = json.dumps(row, default=str)
        d = ring.private_key(row["kid"]).as_dict(private=True)["d"]
        assert d not in dump
        assert row["kek_id"] == ring.keks.current.id


async def test_a_database_copied_to_a_deployment_with_another_kek_cannot_sign(db):
    # given a database whose keys this deployment sealed
    await KeyRing().load()

    # when a deployment with another key-encryption key starts on a copy of it
    stranger = KeyRing(keks=_elsewhere())
    with pytest.raises(SigningKeyUnreadable) as refused:
        await stranger.load()

    # then it stops at once with a typed error naming the key and the KEK it would need, and signs nothing
    assert refused.value.code == "SIGNING_KEY_UNREADABLE"
    assert refused.value.params["kek"] == default_ring().current.id
    with pytest.raises(RuntimeError):
        stranger.issue("user:1", {"roles": ["operator"]})


async def test_an_envelope_moved_to_another_key_does_not_open(db):
    # given a value sealed for one kid
    keks = _elsewhere()
    sealed = await keks.seal(b"secret", "kid-a")
    assert await keks.open(sealed, "kid-a") == b"secret"

    # when it is read as another kid's (a row's envelope copied onto another row)
    with pytest.raises(SigningKeyUnreadable):
        await keks.open(sealed, "kid-b")


async def test_rotating_the_kek_rewraps_every_key_and_old_tokens_still_verify(db):
    policy = TokenPolicy()
    old = default_ring()
    new = LocalKek("kek-next", os.urandom(32))
    kept = await _kept()
    # given tokens signed before the rotation
    before = KeyRing(policy, old)
    await before.load()
    token, _ = before.issue("user:7", {"roles": ["bidder"]})
    try:
        # when a new KEK joins the ring in front and every stored key is re-wrapped under it
        changed = await rewrap_keys(KekRing([new, *old.keks]))
        assert changed == len(kept)
        assert await rewrap_keys(KekRing([new, *old.keks])) == 0

        # then the old KEK can leave: a ring of the new one alone reads every key, verifies the old token,
        # signs new tokens, and seals a newly rotated key under the new KEK
        after = KeyRing(policy, KekRing([new]))
        await after.load()
        assert after.verify(token)["sub"] == "user:7"
        fresh, _ = after.issue("user:8", {"roles": ["bidder"]})
        assert after.verify(fresh)["sub"] == "user:8"
        rotated = await rotate(policy, keks=KekRing([new]))
        await after.load()
        assert {r["kek_id"] for r in await _raw_rows()} == {"kek-next"}
        assert rotated.kid in after.jwks()["keys"][-1]["kid"]
        # and the old KEK alone opens nothing any more
        with pytest.raises(SigningKeyUnreadable):
            await KeyRing(policy, old).load()
        with pytest.raises(InvalidToken):
            after.verify(token + "x")
    finally:
        await _restore(kept)
    await KeyRing(policy, old).load()


def _run(code: str, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_migration_0022_seals_plaintext_keys_and_drops_the_plaintext(tmp_path):
    # given a database at 0021 holding a plaintext signing key, as every deployment had
    url = f"sqlite://{tmp_path / 'old.sqlite3'}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DATABASE_URL", None)
    _run(
        "import asyncio\nfrom tortoise import Tortoise\nfrom tortoise.migrations.api import migrate\n"
        "from domain.db import tortoise_config\nasync def main():\n    try:\n"
        f"        await migrate(config=tortoise_config({url!r}), target='palmtrade.0021_expert_devices')\n"
        "    finally:\n        await Tortoise.close_connections()\nasyncio.run(main())",
        ROOT,
        env,
    )
    jwk = {"kty": "EC", "crv": "P-256", "x": "x-part", "y": "y-part", "d": "the-private-scalar"}
    with sqlite3.connect(tmp_path / "old.sqlite3") as conn:
        conn.execute(
            "INSERT INTO signing_key (kid, private_jwk, created_at, activates_at) VALUES (?, ?, ?, ?)",
            ("20260101-old", json.dumps(jwk), "2026-01-01T00:00:00+00:00", "2026-01-01T00:00:00+00:00"),
        )
    entry = new_entry("kek-deploy")

    # when the deployment migrates with its KEK
    _run(
        "import asyncio; from api.manage import migrate; from api.settings import Settings; "
        f"asyncio.run(migrate(Settings(database_url={url!r}, key_encryption_keys=({entry!r},))))",
        ROOT,
        env,
    )

    # then the plaintext column is gone, the scalar is nowhere in the file, and the KEK opens the key
    with sqlite3.connect(tmp_path / "old.sqlite3") as conn:
        conn.row_factory = sqlite3.Row
        row = dict(conn.execute("SELECT * FROM signing_key").fetchone())
    assert "private_jwk" not in row
    assert row["kek_id"] == "kek-deploy"
    assert b"the-private-scalar" not in (tmp_path / "old.sqlite3").read_bytes()
    opened = _run(
        "import asyncio; from domain.accounts.key_encryption import local_ring; "
        f"print(asyncio.run(local_ring(({entry!r},)).open({row['sealed_jwk']!r}, '20260101-old')).decode())",
        ROOT,
        env,
    )
    assert json.loads(opened) == jwk
