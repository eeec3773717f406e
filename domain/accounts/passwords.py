"""Passwords and device secrets: the strength a password needs, and its argon2id hash computed and checked on
the CPU pool (domain/common/cpu.py)."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from domain.accounts import errors
from domain.common import cpu

# argon2id at RFC 9106's second recommended option (3 passes over 64 MiB, 4 lanes): argon2-cffi's defaults
DEFAULT_COST = (3, 65536, 4)
_hasher = PasswordHasher(*DEFAULT_COST)
_DUMMY_HASH = _hasher.hash("palmtrade-timing-equaliser-0")


def configure(time_cost: int, memory_kib: int, parallelism: int) -> None:
    """The argon2id cost of new hashes (PASSWORD_HASH_*): passes, memory in KiB and lanes. Hashes made with other
    parameters still verify (a hash carries its own) and are redone at the next sign-in (needs_rehash)."""
    global _hasher, _DUMMY_HASH
    if (time_cost, memory_kib, parallelism) == cost():
        return
    if time_cost < 1 or parallelism < 1 or memory_kib < 8 * parallelism:
        raise ValueError("argon2 needs time_cost >= 1, parallelism >= 1 and memory_kib >= 8 * parallelism")
    _hasher = PasswordHasher(time_cost, memory_kib, parallelism)
    _DUMMY_HASH = _hasher.hash("palmtrade-timing-equaliser-0")


def cost() -> tuple[int, int, int]:
    """The argon2id parameters new hashes are made with: passes, memory in KiB, lanes."""
    return (_hasher.time_cost, _hasher.memory_cost, _hasher.parallelism)


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
