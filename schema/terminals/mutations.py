"""Registering terminals, their sign-in, and QR sign-in: the terminal asks, the app approves, the
terminal redeems."""

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.permission import BasePermission
from strawberry.types import Info

from domain.terminals import services
from schema.errors import mutation, result_union
from schema.permissions import IsOperator
from schema.relay import int_id
from schema.terminals.types import KioskSession, QrChallenge, Terminal, TerminalSession


class IsTerminal(BasePermission):
    """A terminal's own token, not a user's kiosk session on it."""

    message = "FORBIDDEN: only a signed-in terminal may do this / 仅限自助终端"
    error_extensions = {"code": "FORBIDDEN"}  # noqa: RUF012

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return services.is_terminal(info.context.actor)


class IsAppUser(BasePermission):
    """A person signed in on the app: not a terminal, a kiosk session, an integrator or an expert."""

    message = "FORBIDDEN: only a user signed in on the app may approve a QR sign-in / 请在手机应用上登录后扫码"
    error_extensions = {"code": "FORBIDDEN"}  # noqa: RUF012

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return services.is_app_user(info.context.actor)


@strawberry.input(description="Register a self-service terminal.")
class TerminalRegisterInput:
    name: str = strawberry.field(description="Its name, e.g. 一楼大厅 3 号机 (≤ 100 characters).")
    location: str = strawberry.field(description="Where it stands (≤ 200 characters).")
    region_code: str | None = strawberry.field(default=None, description="GB/T 2260 region code, 6 digits.")
    idempotency_key: str | None = strawberry.field(default=None, description="Retry safely (≤ 255 chars).")


@strawberry.type(description="The terminal is registered; install its device id and secret on it.")
class TerminalRegistered:
    terminal: Terminal = strawberry.field(description="The terminal as registered.")
    secret: str | None = strawberry.field(description="The device secret: shown once; null on an idempotent replay.")


TerminalRegisterResult = result_union("TerminalRegisterResult", TerminalRegistered, [services.register_terminal])


@strawberry.input(description="A terminal to deactivate or reactivate.")
class TerminalActivationInput:
    terminal_id: strawberry.ID = strawberry.field(description="Global id of the terminal.")


@strawberry.type(description="The terminal as it now stands.")
class TerminalUpdated:
    terminal: Terminal = strawberry.field(description="The terminal as it now stands.")


TerminalActivationResult = result_union("TerminalActivationResult", TerminalUpdated, [services.set_terminal_active])


@strawberry.input(description="A terminal's device credential.")
class TerminalSignInInput:
    device_id: str = strawberry.field(description="The device id from terminalRegister.")
    secret: str = strawberry.field(description="The device secret from terminalRegister.")


@strawberry.type(description="The terminal is signed in for 10 minutes.")
class TerminalSignedIn:
    session: TerminalSession = strawberry.field(description="The terminal's session token.")


TerminalSignInResult = result_union("TerminalSignInResult", TerminalSignedIn, [services.sign_in])


@strawberry.type(description="A new QR sign-in challenge: show `qrPayload` as a QR code, then poll terminalQrRedeem.")
class QrChallengeIssued:
    qr: QrChallenge = strawberry.field(description="The challenge to show as a QR code.")


TerminalQrChallengeResult = result_union("TerminalQrChallengeResult", QrChallengeIssued, [services.issue_challenge])


@strawberry.input(description="A QR code scanned on a terminal.")
class QrApproveInput:
    challenge: str = strawberry.field(description="The challenge, or the whole scanned `palmtrade://qr-login?c=...`.")


@strawberry.type(description="The terminal may now open a session for you (once, for at most 5 minutes).")
class QrApproved:
    terminal_name: str = strawberry.field(description="The terminal you signed in on.")
    terminal_location: str = strawberry.field(description="Where it stands.")
    expires_at: datetime = strawberry.field(description="The terminal must redeem the approval before then.")


QrApproveResult = result_union("QrApproveResult", QrApproved, [services.approve_challenge])


@strawberry.input(description="The challenge this terminal showed.")
class TerminalQrRedeemInput:
    challenge: str = strawberry.field(description="As returned by terminalQrChallenge.")


@strawberry.type(description="Not approved yet: poll again (every second or two) until `expiresAt`.")
class QrPending:
    expires_at: datetime = strawberry.field(description="When the challenge expires.")


@strawberry.type(description="The app user approved: a short session of theirs on this terminal.")
class KioskSignedIn:
    session: KioskSession = strawberry.field(description="The app user's short session on this terminal.")


TerminalQrRedeemResult = result_union(
    "TerminalQrRedeemResult",
    (KioskSignedIn, QrPending),
    [services.redeem_challenge],
    description="The outcome of terminalQrRedeem: KioskSignedIn once the app user approved, QrPending until then, "
    "otherwise a business failure implementing Error.",
)


@strawberry.type
class TerminalMutations:
    @mutation(
        TerminalRegisterResult,
        description="Register a self-service terminal (operator); its secret is shown once.",
        permission_classes=[IsOperator],
    )
    async def terminal_register(
        self,
        info: Info,
        input: Annotated[TerminalRegisterInput, strawberry.argument(description="The terminal's name and location.")],
    ) -> TerminalRegistered:
        terminal, secret = await services.register_terminal(
            info.context.actor, input.name, input.location, input.region_code, input.idempotency_key
        )
        return TerminalRegistered(terminal=Terminal.from_model(terminal), secret=secret)

    @mutation(
        TerminalActivationResult,
        description="Deactivate a terminal (operator): it can no longer sign in, its tokens stop working.",
        permission_classes=[IsOperator],
    )
    async def terminal_deactivate(
        self,
        info: Info,
        input: Annotated[
            TerminalActivationInput, strawberry.argument(description="The terminal to take out of service.")
        ],
    ) -> TerminalUpdated:
        return await _set_active(info, input, False)

    @mutation(
        TerminalActivationResult, description="Reactivate a terminal (operator).", permission_classes=[IsOperator]
    )
    async def terminal_reactivate(
        self,
        info: Info,
        input: Annotated[
            TerminalActivationInput, strawberry.argument(description="The terminal to put back in service.")
        ],
    ) -> TerminalUpdated:
        return await _set_active(info, input, True)

    @mutation(
        TerminalSignInResult,
        description="A terminal signs in with its device credential: a 10-minute token, no refresh token.",
    )
    async def terminal_sign_in(
        self,
        info: Info,
        input: Annotated[TerminalSignInInput, strawberry.argument(description="The terminal's device id and secret.")],
    ) -> TerminalSignedIn:
        signed = await services.sign_in(info.context.actor, input.device_id, input.secret)
        return TerminalSignedIn(
            session=TerminalSession(
                access_token=signed.access_token,
                access_token_expires_at=signed.expires_at,
                terminal=Terminal.from_model(signed.terminal),
            )
        )

    @mutation(
        TerminalQrChallengeResult,
        description="A terminal asks for a QR sign-in challenge (2 minutes) to show on its screen.",
        permission_classes=[IsTerminal],
    )
    async def terminal_qr_challenge(self, info: Info) -> QrChallengeIssued:
        issued = await services.issue_challenge(info.context.actor)
        return QrChallengeIssued(qr=QrChallenge.from_domain(issued))

    @mutation(
        QrApproveResult,
        description="The app user approves the QR code a terminal shows: the terminal may then open one short "
        "session reading the user's own data.",
        permission_classes=[IsAppUser],
    )
    async def qr_approve(
        self,
        info: Info,
        input: Annotated[
            QrApproveInput, strawberry.argument(description="The challenge scanned from the terminal's screen.")
        ],
    ) -> QrApproved:
        approval = await services.approve_challenge(info.context.actor, input.challenge)
        return QrApproved(
            terminal_name=approval.terminal.name,
            terminal_location=approval.terminal.location,
            expires_at=approval.expires_at,
        )

    @mutation(
        TerminalQrRedeemResult,
        description="The terminal polls its challenge: QrPending until the app approves it, then once a session "
        "of at most 5 minutes.",
        permission_classes=[IsTerminal],
    )
    async def terminal_qr_redeem(
        self,
        info: Info,
        input: Annotated[TerminalQrRedeemInput, strawberry.argument(description="The challenge this terminal showed.")],
    ) -> KioskSignedIn | QrPending:
        outcome = await services.redeem_challenge(info.context.actor, input.challenge)
        if isinstance(outcome, services.Pending):
            return QrPending(expires_at=outcome.expires_at)
        return KioskSignedIn(session=KioskSession.from_domain(outcome))


async def _set_active(info: Info, input: TerminalActivationInput, active: bool) -> TerminalUpdated:
    terminal_id = int_id(input.terminal_id, "Terminal", "terminalId")
    terminal = await services.set_terminal_active(info.context.actor, terminal_id, active)
    return TerminalUpdated(terminal=Terminal.from_model(terminal))
