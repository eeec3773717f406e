"""The argon2id cost of new hashes is a setting (PASSWORD_HASH_*): a hash carries its own parameters, so one made at
another cost still verifies, and is reported for redoing at the next sign-in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api.settings import Settings
from domain.accounts import passwords


@pytest.fixture
def restore_cost() -> Iterator[None]:
    before = passwords.cost()
    yield
    passwords.configure(*before)


async def test_a_hash_made_at_another_cost_verifies_and_is_to_be_redone(restore_cost):
    # given a password hashed at one cost
    passwords.configure(1, 64, 1)
    made = await passwords.hash_secret("road-works-2026")

    # when the cost changes
    passwords.configure(2, 128, 1)

    # then the old hash still verifies its password and no other, and is to be redone; a new one is not
    assert made.startswith("$argon2id$v=19$m=64,t=1,p=1$")
    assert await passwords.verify_secret(made, "road-works-2026")
    assert not await passwords.verify_secret(made, "road-works-2027")
    assert passwords.needs_rehash(made)
    assert not passwords.needs_rehash(await passwords.hash_secret("road-works-2026"))


def test_the_cost_comes_from_the_environment_and_defaults_to_rfc_9106(monkeypatch):
    # given no PASSWORD_HASH_* in the environment, then one of them set
    for name in ("PASSWORD_HASH_TIME_COST", "PASSWORD_HASH_MEMORY_KIB", "PASSWORD_HASH_PARALLELISM"):
        monkeypatch.delenv(name, raising=False)
    default = Settings.from_env().password_hash_cost
    monkeypatch.setenv("PASSWORD_HASH_TIME_COST", "4")

    # then the default is argon2-cffi's (RFC 9106's second recommended option), and the variable is read
    assert default == (3, 65536, 4)
    assert Settings.from_env().password_hash_cost == (4, 65536, 4)


def test_a_cost_argon2_cannot_run_is_refused(restore_cost):
    # given the cost in force
    before = passwords.cost()

    # when the memory is less than 8 KiB per lane
    with pytest.raises(ValueError, match="memory_kib"):
        passwords.configure(1, 8, 2)

    # then the cost in force is unchanged
    assert passwords.cost() == before
