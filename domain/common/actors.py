"""Who is acting: a user of an organisation, an integrator client, a self-service terminal, the system,
or nobody."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    BIDDER = "bidder"
    TENDERER = "tenderer"
    AGENCY = "agency"
    GUARANTOR = "guarantor"
    SUPERVISOR = "supervisor"
    OPERATOR = "operator"
    EXPERT = "expert"
    TERMINAL = "terminal"
    INTEGRATOR = "integrator"
    WITNESS = "witness"  # 见证: attends openings and evaluations remotely, read-only, per lot


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: int | None = None
    org_id: int | None = None
    roles: frozenset[Role] = frozenset()
    client_id: str | None = None
    scopes: frozenset[str] = frozenset()
    session_id: str | None = None
    ip: str | None = None
    supervised_categories: frozenset[str] = field(default_factory=frozenset)
    rate_limit: int | None = None
    # an evaluation expert signed in by SMS code (experts are not users of an organisation)
    expert_id: int | None = None
    # a self-service terminal (`terminal:<id>` token), or the terminal a QR kiosk session runs on
    terminal_id: int | None = None
    # the app's device id (X-Device-Id header), kept for collusion checks (domain/supervision)
    device_id: str | None = None
    # how the session was signed in (the token's amr: pwd, sms, cert) and the roles its organisation has
    # that the platform grants only to a two-factor session (README: Certificates)
    amr: frozenset[str] = field(default_factory=frozenset)
    withheld_roles: frozenset[Role] = field(default_factory=frozenset)
    # an accredited third-party system acting for the tenderer `org_id` under this authorisation
    # (domain/accounts/third_party.py); the system is `client_id`
    delegation_id: int | None = None

    @property
    def is_anonymous(self) -> bool:
        # a terminal alone stays anonymous here: it reads what anyone may read (schema/kiosk_guard.py)
        return self.user_id is None and self.client_id is None and self.expert_id is None and not self.is_system

    @property
    def is_system(self) -> bool:
        return Role.OPERATOR in self.roles and self.user_id is None and self.client_id == "system"

    @property
    def two_factor(self) -> bool:
        """Signed in with a certificate and a second factor (certificate plus SMS code)."""
        return two_factor(self.amr)

    def has(self, *roles: Role) -> bool:
        return any(r in self.roles for r in roles)

    @property
    def label(self) -> str:
        if self.client_id:
            return f"client:{self.client_id}"
        if self.user_id is not None:
            return f"user:{self.user_id}"
        if self.expert_id is not None:
            return f"expert:{self.expert_id}"
        if self.terminal_id is not None:
            return f"terminal:{self.terminal_id}"
        return "anonymous"

    def key(self) -> str:
        """The scope of a caller's idempotency keys.

        Anonymous callers share one scope: a phone that retries over another network has another
        address, and a stored result is only returned for the identical input anyway.
        """
        return self.label


def two_factor(amr: frozenset[str] | set[str] | list[str] | tuple[str, ...]) -> bool:
    """Two authentication factors, one of them cryptographic: the certificate's key and an SMS code
    (等保三级: two factors, at least one by cryptographic technique)."""
    methods = set(amr)
    return "cert" in methods and "sms" in methods


ANONYMOUS = Actor()
SYSTEM = Actor(roles=frozenset({Role.OPERATOR}), client_id="system")
