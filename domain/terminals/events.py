"""What happens to terminals and their QR sign-in (audit trail)."""

from __future__ import annotations

from dataclasses import dataclass

from domain.common.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class TerminalRegistered(DomainEvent):
    type = "terminal.registered"
    object_type = "Terminal"
    device_id: str
    name: str
    location: str
    region_code: str | None


@dataclass(frozen=True, kw_only=True)
class TerminalDeactivated(DomainEvent):
    type = "terminal.deactivated"
    object_type = "Terminal"


@dataclass(frozen=True, kw_only=True)
class TerminalReactivated(DomainEvent):
    type = "terminal.reactivated"
    object_type = "Terminal"


@dataclass(frozen=True, kw_only=True)
class TerminalSignedIn(DomainEvent):
    type = "terminal.signed_in"
    object_type = "Terminal"
    expires_at: str


@dataclass(frozen=True, kw_only=True)
class QrChallengeApproved(DomainEvent):
    type = "qr_challenge.approved"
    object_type = "QrChallenge"
    terminal_id: int
    user_id: int


@dataclass(frozen=True, kw_only=True)
class QrChallengeRedeemed(DomainEvent):
    type = "qr_challenge.redeemed"
    object_type = "QrChallenge"
    terminal_id: int
    user_id: int
    session_expires_at: str
