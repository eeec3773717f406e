"""Terminals and QR sign-in in the domain: registration, device sign-in, the challenge's life (approved
once by an app user within 2 minutes, redeemed once by its own terminal), and the tokens they make."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from domain.accounts import adapters
from domain.accounts.models import Organisation, User
from domain.accounts.tokens import KIOSK_SELF_SCOPE, InvalidToken, KeyRing, actor_from_claims
from domain.common.actors import Actor, Role
from domain.common.errors import PermissionDenied
from domain.common.models import OutboxEvent
from domain.terminals import errors, services
from domain.terminals.models import QrChallenge, Terminal
from tests.domain import factories as df

OPERATOR = Actor(user_id=1, org_id=1, roles=frozenset({Role.OPERATOR}))


@pytest.fixture
async def ring(db: Any, manual_clock: Any) -> AsyncIterator[KeyRing]:
    """The accounts services (which sign every token) wired to a loaded key ring."""
    keys = KeyRing()
    await keys.load()
    before = (adapters.deps.keyring, adapters.deps.sms, adapters.deps.code_secret)
    adapters.configure(keys, adapters.deps.sms, adapters.deps.code_secret)
    services._active_seen.clear()
    yield keys
    adapters.configure(*before)


async def terminal(name: str = "一楼大厅 1 号机") -> tuple[Terminal, str]:
    made, secret = await services.register_terminal(OPERATOR, name, "交易中心一楼大厅", "370200")
    assert secret is not None
    return made, secret


async def signed_in(ring: KeyRing, name: str = "一楼大厅 1 号机") -> tuple[Terminal, Actor]:
    made, secret = await terminal(name)
    token = await services.sign_in(Actor(), made.device_id, secret)
    return made, actor_from_claims(ring.verify(token.access_token))


async def app_user(kinds: list[str] | None = None) -> tuple[User, Actor]:
    org = await df.organisation(kinds=kinds)
    person = await df.user(org)
    roles = frozenset(Role(k) for k in org.kinds)
    return person, Actor(user_id=person.id, org_id=org.id, roles=roles, session_id="s")


async def test_an_operator_registers_a_terminal_whose_secret_is_shown_once_and_kept_as_a_hash(ring):
    # given an operator and a bidder
    bidder = Actor(user_id=2, org_id=2, roles=frozenset({Role.BIDDER}))
    # when the operator registers a terminal twice with one idempotency key, and the bidder tries
    first, secret = await services.register_terminal(OPERATOR, " 3 号机 ", "大厅", None, "t-1")
    again, replayed = await services.register_terminal(OPERATOR, " 3 号机 ", "大厅", None, "t-1")
    with pytest.raises(PermissionDenied):
        await services.register_terminal(bidder, "4 号机", "大厅", None)
    # then one terminal exists, its secret was returned once and only its hash is stored
    assert again.id == first.id
    assert secret is not None
    assert replayed is None
    assert first.name == "3 号机"
    assert secret not in first.secret_hash
    assert first.secret_hash.startswith("$argon2")
    assert await Terminal.all().count() == 1
    assert await OutboxEvent.filter(type="terminal.registered", object_id=str(first.id)).count() == 1


async def test_a_terminal_signs_in_for_ten_minutes_and_its_token_maps_to_the_terminal(ring, manual_clock):
    # given a registered terminal
    made, secret = await terminal()
    # when it signs in with a wrong secret, an unknown device, and the right credential
    with pytest.raises(errors.TerminalCredentialsInvalid):
        await services.sign_in(Actor(), made.device_id, secret + "x")
    with pytest.raises(errors.TerminalCredentialsInvalid):
        await services.sign_in(Actor(), "ptd_unknown", secret)
    token = await services.sign_in(Actor(), made.device_id, secret)
    claims = ring.verify(token.access_token)
    # then the token is a terminal's for 10 minutes, and refused after (beyond the 30 s leeway)
    actor = actor_from_claims(claims)
    assert claims["sub"] == f"terminal:{made.id}"
    assert token.expires_at == manual_clock.now() + timedelta(minutes=10)
    assert actor.terminal_id == made.id
    assert actor.roles == frozenset({Role.TERMINAL})
    assert actor.user_id is None
    assert actor.label == f"terminal:{made.id}"
    assert (await Terminal.get(id=made.id)).last_seen_at == manual_clock.now()
    manual_clock.advance(minutes=10, seconds=31)
    with pytest.raises(InvalidToken):
        ring.verify(token.access_token)


async def test_a_deactivated_terminal_cannot_sign_in_and_checks_in_no_more(ring, manual_clock):
    # given a terminal that signed in
    made, secret = await terminal()
    assert await services.check_in(made.id)
    # when the operator deactivates it
    await services.set_terminal_active(OPERATOR, made.id, False)
    # then its check-in fails at once and it cannot sign in; reactivated, it can
    assert not await services.check_in(made.id)
    with pytest.raises(errors.TerminalCredentialsInvalid):
        await services.sign_in(Actor(), made.device_id, secret)
    await services.set_terminal_active(OPERATOR, made.id, True)
    assert await services.check_in(made.id)
    kinds = (
        await OutboxEvent.filter(object_type="Terminal", outcome="success")
        .order_by("id")
        .values_list("type", flat=True)
    )
    assert kinds == ["terminal.registered", "terminal.deactivated", "terminal.reactivated"]


async def test_last_seen_is_written_at_most_once_a_minute(ring, manual_clock):
    # given a terminal seen now
    made, _ = await terminal()
    start = manual_clock.now()
    assert await services.check_in(made.id)
    # when it is seen again within the minute, and after it
    manual_clock.advance(seconds=59)
    assert await services.check_in(made.id)
    within = (await Terminal.get(id=made.id)).last_seen_at
    manual_clock.advance(seconds=2)
    services._active_seen.clear()  # as another process would see it
    assert await services.check_in(made.id)
    after = (await Terminal.get(id=made.id)).last_seen_at
    # then the first check-in within the minute wrote nothing
    assert within == start
    assert after == manual_clock.now()


async def test_an_app_user_approves_a_challenge_once_and_its_terminal_redeems_it_once(ring, manual_clock):
    # given a signed-in terminal showing a challenge, and a bidder on the app
    made, kiosk = await signed_in(ring)
    issued = await services.issue_challenge(kiosk)
    person, bidder = await app_user()
    _, other = await app_user()
    # when the terminal polls, the bidder approves, another user approves, and the terminal redeems twice
    pending = await services.redeem_challenge(kiosk, issued.challenge)
    approval = await services.approve_challenge(bidder, issued.qr_payload)
    with pytest.raises(errors.QrChallengeAlreadyApproved):
        await services.approve_challenge(other, issued.challenge)
    session = await services.redeem_challenge(kiosk, issued.challenge)
    with pytest.raises(errors.QrChallengeRedeemed):
        await services.redeem_challenge(kiosk, issued.challenge)
    # then the challenge is URL-safe and long enough, and the session is the user's for 5 minutes
    assert len(issued.challenge) >= 43
    assert issued.challenge.replace("-", "").replace("_", "").isalnum()
    assert issued.expires_at == manual_clock.now() + timedelta(minutes=2)
    assert issued.qr_payload == f"palmtrade://qr-login?c={issued.challenge}"
    assert isinstance(pending, services.Pending)
    assert approval.terminal.id == made.id
    assert isinstance(session, services.KioskSession)
    assert session.expires_at == manual_clock.now() + services.KIOSK_SESSION_TTL
    assert timedelta(minutes=5) >= services.KIOSK_SESSION_TTL
    claims = ring.verify(session.access_token)
    actor = actor_from_claims(claims)
    assert claims["sub"] == f"user:{person.id}"
    assert claims["scope"] == KIOSK_SELF_SCOPE
    assert claims["tid"] == made.id
    assert "sid" not in claims
    assert actor.user_id == person.id
    assert actor.terminal_id == made.id
    assert actor.scopes == frozenset({KIOSK_SELF_SCOPE})
    assert actor.roles == frozenset({Role.BIDDER})
    row = await QrChallenge.get(terminal_id=made.id)
    assert issued.challenge not in row.challenge_hash
    assert row.approved_by == person.id
    assert row.redeemed_at == manual_clock.now()
    types = (
        await OutboxEvent.filter(object_type="QrChallenge", outcome="success")
        .order_by("id")
        .values_list("type", flat=True)
    )
    assert types == ["qr_challenge.approved", "qr_challenge.redeemed"]
    manual_clock.advance(minutes=5, seconds=31)
    with pytest.raises(InvalidToken):
        ring.verify(session.access_token)


async def test_an_expired_or_unknown_challenge_is_refused_and_nothing_changes(ring, manual_clock):
    # given a challenge and a bidder
    _, kiosk = await signed_in(ring)
    issued = await services.issue_challenge(kiosk)
    _, bidder = await app_user()
    # when 2 minutes pass
    manual_clock.advance(minutes=2)
    # then approving and redeeming it are refused as expired, an unknown one as unknown
    with pytest.raises(errors.QrChallengeExpired):
        await services.approve_challenge(bidder, issued.challenge)
    with pytest.raises(errors.QrChallengeExpired):
        await services.redeem_challenge(kiosk, issued.challenge)
    with pytest.raises(errors.QrChallengeUnknown):
        await services.approve_challenge(bidder, "x" * 43)
    with pytest.raises(errors.QrChallengeUnknown):
        await services.approve_challenge(bidder, "palmtrade://qr-login?c=")
    row = await QrChallenge.get()
    assert row.approved_by is None
    assert row.redeemed_at is None
    assert await OutboxEvent.filter(object_type="QrChallenge", outcome="success").count() == 0
    assert await OutboxEvent.filter(type="qr_challenge.approve", outcome="failure").count() == 3


async def test_only_an_app_user_approves_and_only_the_terminal_that_asked_redeems(ring):
    # given a challenge of one terminal, another terminal, an integrator, an expert and a kiosk session
    made, kiosk = await signed_in(ring)
    _, intruder = await signed_in(ring, "二楼 1 号机")
    issued = await services.issue_challenge(kiosk)
    integrator = Actor(client_id="ptc_1", roles=frozenset({Role.INTEGRATOR}))
    expert = Actor(expert_id=1, roles=frozenset({Role.EXPERT}))
    person, _ = await app_user()
    session = Actor(
        user_id=person.id, roles=frozenset({Role.BIDDER}), scopes=frozenset({KIOSK_SELF_SCOPE}), terminal_id=made.id
    )
    # when each of them tries to approve it
    for stranger in (kiosk, integrator, expert, session, Actor()):
        with pytest.raises(PermissionDenied):
            await services.approve_challenge(stranger, issued.challenge)
    # then none could, and another terminal does not even know it; nor may a session ask for challenges
    with pytest.raises(errors.QrChallengeUnknown):
        await services.redeem_challenge(intruder, issued.challenge)
    with pytest.raises(PermissionDenied):
        await services.issue_challenge(session)
    assert (await QrChallenge.get()).approved_by is None


async def test_a_session_lent_to_a_kiosk_never_carries_oversight_roles(ring):
    # given an operator's user approving a terminal's challenge
    _, kiosk = await signed_in(ring)
    issued = await services.issue_challenge(kiosk)
    person, staff = await app_user(kinds=["operator", "bidder"])
    await services.approve_challenge(staff, issued.challenge)
    # when the terminal redeems it
    session = await services.redeem_challenge(kiosk, issued.challenge)
    # then the session keeps the trading roles only
    assert isinstance(session, services.KioskSession)
    assert actor_from_claims(ring.verify(session.access_token)).roles == frozenset({Role.BIDDER})
    assert (await Organisation.get(id=staff.org_id)).kinds == ["operator", "bidder"]
    assert person.id == staff.user_id


def test_token_mapping_fails_closed_for_a_half_kiosk_session():
    # given claims of a user token carrying only half of a kiosk session
    base = {"sub": "user:7", "org": 3, "roles": ["bidder"]}
    # then each is refused, while the full one maps to a kiosk session and a plain one to a user
    with pytest.raises(InvalidToken):
        actor_from_claims({**base, "scope": KIOSK_SELF_SCOPE})
    with pytest.raises(InvalidToken):
        actor_from_claims({**base, "tid": "5"})
    full = actor_from_claims({**base, "scope": KIOSK_SELF_SCOPE, "tid": 5})
    plain = actor_from_claims({**base, "sid": "f"})
    assert full.terminal_id == 5
    assert full.scopes == frozenset({KIOSK_SELF_SCOPE})
    assert full.session_id is None
    assert plain.terminal_id is None
    assert plain.scopes == frozenset()
    assert actor_from_claims({"sub": "terminal:9", "roles": ["operator"]}).roles == frozenset({Role.TERMINAL})
