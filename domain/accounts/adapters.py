"""The adapters of the accounts services, wired at the composition root (api/services.py): the key ring that
signs every token, the SMS outbox, the secret that keys codes and identity hashes, the roles kept for two-factor
sessions and the counters of failed sign-ins."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from domain.accounts.tokens import KeyRing
from domain.common.actors import Role
from domain.sms import services as sms


class FailureCounter(Protocol):
    """Fixed-window counts shared by the deployment's processes (api/ratelimit.py)."""

    async def peek(self, key: str, window_seconds: int) -> tuple[int, int]:
        """(count in the current window, seconds until it resets), counting nothing."""
        ...

    async def hit(self, key: str, limit: int, window_seconds: int = 60) -> tuple[bool, int]: ...


# the SMS outbox wired at the composition root (notifications/sms/dispatch.py); the development one logs
SmsSender = sms.SmsOutbox
LogSmsSender = sms.LogOutbox


@dataclass
class Deps:
    """Adapters wired at the composition root (api/)."""

    keyring: KeyRing = field(default_factory=KeyRing)
    sms: SmsSender = field(default_factory=LogSmsSender)
    code_secret: bytes = b"development-only-secret"
    # roles granted only to a two-factor session (certificate plus SMS code); TWO_FACTOR_ROLES in api/settings
    two_factor_roles: frozenset[Role] = frozenset()
    # failed password sign-ins allowed per window (SIGNIN_FAILURES_PER_ADDRESS / _PER_NUMBER); 0: no limit
    failures: FailureCounter | None = None
    signin_failures_per_address: int = 30
    signin_failures_per_number: int = 10


deps = Deps()


def configure(keyring: KeyRing, outbox: SmsSender, code_secret: bytes) -> None:
    deps.keyring, deps.sms, deps.code_secret = keyring, outbox, code_secret
    sms.configure(code_secret)
    if isinstance(outbox, sms.LogOutbox):
        outbox.secret = code_secret  # it opens what sms_codes.send_code sealed
