"""Passwords and device secrets: the strength a password needs, and its argon2id hash computed and checked on
the CPU pool (domain/common/cpu.py)."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from domain.accounts import errors
from domain.common import cpu

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("palmtrade-timing-equaliser-0")


def check_password(password: str) -> None:
    if len(password) < 8 or not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
        raise errors.WeakPassword()


async def hash_secret(secret: str) -> str:
    """The argon2id hash of a password or device secret, computed on the CPU pool (domain/common/cpu.py)."""
    return await cpu.run(_hasher.hash, secret)


async def verify_secret(secret_hash: str, secret: str) -> bool:
    """Whether `secret` matches its argon2 hash, checked on the CPU pool."""
    return await cpu.run(_verify, secret_hash, secret)


async def verify_nothing(secret: str) -> None:
    """The same work as verify_secret for a name that has no hash, so that the answer's time does not tell."""
    await cpu.run(_verify, _DUMMY_HASH, secret)


def needs_rehash(secret_hash: str) -> bool:
    """Whether the hash was made with other parameters than today's."""
    return _hasher.check_needs_rehash(secret_hash)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
