"""Terminals, their sign-in, and the QR sign-in of app users on them."""

from datetime import datetime

import strawberry
from strawberry.types import Info

from domain.common.actors import Role
from domain.terminals import services
from domain.terminals.models import Terminal as TerminalModel
from schema.relay import Node, node_resolver


@strawberry.type(description="A self-service terminal (自助终端) in a trading hall.")
class Terminal(Node):
    device_id: str = strawberry.field(description="The device id the terminal signs in with.")
    name: str = strawberry.field(description="Its name, e.g. 一楼大厅 3 号机.")
    location: str = strawberry.field(description="Where it stands.")
    region_code: str | None = strawberry.field(description="GB/T 2260 region code, 6 digits.")
    is_active: bool = strawberry.field(description="A deactivated terminal can neither sign in nor use its tokens.")
    created_at: datetime = strawberry.field(description="When it was registered.")
    last_seen_at: datetime | None = strawberry.field(description="Its last request (updated at most once a minute).")

    @classmethod
    def from_model(cls, m: TerminalModel) -> "Terminal":
        return cls(
            _pk=m.id,
            device_id=m.device_id,
            name=m.name,
            location=m.location,
            region_code=m.region_code,
            is_active=m.is_active,
            created_at=m.created_at,
            last_seen_at=m.last_seen_at,
        )


@node_resolver("Terminal")
async def _terminal_node(info: Info, pk: str) -> Terminal | None:
    actor = info.context.actor
    if not pk.isdigit() or not (actor.has(Role.OPERATOR) or actor.terminal_id == int(pk)):
        return None
    found = await TerminalModel.get_or_none(id=int(pk))
    return Terminal.from_model(found) if found else None


@strawberry.type(description="A terminal's access token: 10 minutes, no refresh token; sign in again after it.")
class TerminalSession:
    access_token: str = strawberry.field(description="ES256 JWT; send as `Authorization: Bearer`.")
    access_token_expires_at: datetime = strawberry.field(description="When it ends.")
    terminal: Terminal = strawberry.field(description="The terminal signed in.")


@strawberry.type(description="A QR sign-in challenge to show on the terminal's screen.")
class QrChallenge:
    challenge: str = strawberry.field(description="The challenge: 256 random bits, URL-safe base64.")
    qr_payload: str = strawberry.field(
        description="What the QR code encodes: `palmtrade://qr-login?c=<challenge>`; the app passes it to qrApprove."
    )
    expires_at: datetime = strawberry.field(description="It must be approved and redeemed before then (2 minutes).")

    @classmethod
    def from_domain(cls, issued: services.ChallengeIssued) -> "QrChallenge":
        return cls(challenge=issued.challenge, qr_payload=issued.qr_payload, expires_at=issued.expires_at)


@strawberry.type(
    description="A terminal's session for the app user who approved its QR code: at most 5 minutes, no refresh, "
    "reading only that user's own registrations, sealed bids, guarantees and notifications, plus public kiosk fields."
)
class KioskSession:
    access_token: str = strawberry.field(description="ES256 JWT; send as `Authorization: Bearer`.")
    access_token_expires_at: datetime = strawberry.field(description="When the session ends.")
    user_name: str = strawberry.field(description="Who is signed in, to greet them on screen.")
    organisation_name: str = strawberry.field(description="The user's organisation.")

    @classmethod
    def from_domain(cls, s: services.KioskSession) -> "KioskSession":
        return cls(
            access_token=s.access_token,
            access_token_expires_at=s.expires_at,
            user_name=s.user.name,
            organisation_name=s.organisation.name,
        )
