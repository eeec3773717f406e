"""What the process that migrates lends the migrations, which import nothing of the domain (they are frozen).

0022 seals the plaintext signing keys under the deployment's key-encryption key (KEK), which is not in the
database: api.manage.migrate lends the newest KEK of its settings' ring here while the migrations run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Protocol


class Kek(Protocol):
    """A key-encryption key as 0022 uses it (domain/accounts/key_encryption.KeyEncryptionKey fits)."""

    @property
    def id(self) -> str: ...

    async def wrap(self, data_key: bytes, context: bytes) -> bytes: ...


_kek: ContextVar[Kek | None] = ContextVar("kek_for_migrations", default=None)


@contextlib.contextmanager
def lending_kek(kek: Kek) -> Iterator[None]:
    """The KEK the migrations seal with while they run."""
    token = _kek.set(kek)
    try:
        yield
    finally:
        _kek.reset(token)


def lent_kek() -> Kek:
    """The KEK lent to the migrations; RuntimeError when none is (run them with `python -m api.manage migrate`)."""
    kek = _kek.get()
    if kek is None:
        raise RuntimeError(
            "this migration seals signing keys under the deployment's key-encryption key: "
            "migrate with `python -m api.manage migrate`, which lends it"
        )
    return kek
