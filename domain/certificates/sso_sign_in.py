"""Certificate sign-in at the single sign-on provider's page (issue 24): the page shows a one-time certificate
challenge, bound to its browser and its authorization request; the holder signs it on the page (a CA client) or the
PalmTrade app holding the certificate approves it (扫码登录) while the page polls. Either way the signature, the path,
the revocation and the binding to the user are checked by the app's own certificate sign-in (services.sign_in)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from domain.accounts import errors as account_errors
from domain.accounts import sessions
from domain.accounts.models import RefreshToken
from domain.certificates import errors as cert_errors
from domain.certificates import services
from domain.common import clock, events
from domain.common.actors import Actor
from domain.common.errors import DomainError, PermissionDenied, raises
from domain.common.events import Audience, use_case
from domain.sso import errors
from domain.sso import events as ev
from domain.sso.models import SsoCertificateSignIn, SsoClient

# an approval made in time may still be taken up by the page's next poll this long after the challenge expired
PICKUP_GRACE = timedelta(seconds=30)
APP_SCHEME = "palmtrade://sso/certificate-sign-in"

SIGN_IN_ERRORS: tuple[type[DomainError], ...] = (
    account_errors.AccountLocked,
    account_errors.AccountDisabled,
    account_errors.SmsCodeInvalid,  # never without a code, which these sign-ins do not take (services.sign_in)
    account_errors.SmsCodeExhausted,
    *cert_errors.PATH_ERRORS,
    *cert_errors.CHALLENGE_ERRORS,
    cert_errors.CertificateNotBound,
    cert_errors.CertificateWrongOrganisation,
    cert_errors.CertificateCreditCodeMissing,
)


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def request_key(client_id: str, query: str) -> str:
    """What binds a certificate sign-in to its authorization request: the client and the request's exact query."""
    return _hash(f"{client_id}\n{query}")


@dataclass(frozen=True, slots=True)
class PageChallenge:
    """The challenge the page shows: the text to sign and the QR payload for the app."""

    id: int
    challenge: str
    to_sign: str
    qr_payload: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class CertificateSignedIn:
    """Who the certificate signed in and the PalmTrade session it opened for the provider."""

    user_id: int
    session_id: str
    amr: tuple[str, ...]


def qr_payload(issuer: str, client_id: str, challenge: str) -> str:
    return f"{APP_SCHEME}?{urlencode({'challenge': challenge, 'client': client_id, 'issuer': issuer})}"


def page_challenge(row_id: int, issuer: str, client_id: str, challenge: str, expires_at: datetime) -> PageChallenge:
    to_sign = services.Challenge(challenge, "sign_in", expires_at).to_sign
    return PageChallenge(row_id, challenge, to_sign, qr_payload(issuer, client_id, challenge), expires_at)


async def start(client: SsoClient, key: str, issuer: str) -> PageChallenge:
    """A certificate challenge for one authorization request of one browser (the caller keeps its id and text in the
    browser's signed cookie): valid as long as any certificate challenge (2 minutes), used once."""
    issued = await services.issue_challenge("sign_in")
    row = await SsoCertificateSignIn.create(
        challenge_hash=_hash(issued.challenge),
        request_hash=key,
        client=client,
        created_at=clock.now(),
        expires_at=issued.expires_at,
    )
    return page_challenge(row.id, issuer, client.client_id, issued.challenge, issued.expires_at)


async def _family(refresh_token: str) -> str:
    row = await RefreshToken.get(token_hash=_hash(refresh_token))
    return str(row.family)


async def _verified(actor: Actor, challenge: str, certificate: str, signature: str) -> sessions.Session:
    """The app's certificate sign-in itself: challenge used once, signature, path, CRLs, binding, account lock."""
    return await services.sign_in(actor, challenge, certificate, signature)


@raises(
    *SIGN_IN_ERRORS,
    errors.SsoSignInNotFound,
    errors.SsoSignInExpired,
    errors.SsoSignInUsed,
    errors.SsoCertificateOtherUser,
)
@use_case("sso_certificate_sign_in.approve", "SsoClient")
async def approve(actor: Actor, challenge: str, certificate: str, signature: str) -> SsoClient:
    """The signed-in app approves the page's sign-in with a certificate bound to its own user (扫码登录): verified as
    any certificate sign-in, then the page's next poll continues the authorization request. Gives the client system
    the user signs in to."""
    if not services.is_person(actor) or actor.user_id is None:
        raise PermissionDenied()
    if not challenge or len(challenge) > 128:
        raise errors.SsoSignInNotFound()
    row = await SsoCertificateSignIn.get_or_none(challenge_hash=_hash(challenge)).select_related("client")
    if row is None:
        raise errors.SsoSignInNotFound()
    now = clock.now()
    if row.approved_at is not None or row.used_at is not None:
        raise errors.SsoSignInUsed()
    if row.expires_at <= now:
        raise errors.SsoSignInExpired()
    session = await _verified(actor, challenge, certificate, signature)
    family = await _family(session.refresh_token)
    if session.user.id != actor.user_id:
        await sessions.end_session(actor, family, session.user.id, "sso_refused")
        raise errors.SsoCertificateOtherUser()
    taken = await SsoCertificateSignIn.filter(id=row.id, approved_at=None, used_at=None).update(
        user_id=session.user.id, session_id=family, approved_at=now
    )
    if taken != 1:
        await sessions.end_session(actor, family, session.user.id, "sso_refused")
        raise errors.SsoSignInUsed()
    client: SsoClient = row.client
    await events.record(
        ev.SsoCertificateSignInApproved(
            object_id=client.client_id, client_id=client.client_id, audience=Audience(users=(session.user.id,))
        ),
        actor,
    )
    return client


async def _row(row_id: int, challenge: str, key: str) -> SsoCertificateSignIn:
    row = await SsoCertificateSignIn.get_or_none(id=row_id, challenge_hash=_hash(challenge))
    if row is None or row.request_hash != key:
        raise errors.SsoSignInNotFound()
    if row.used_at is not None:
        raise errors.SsoSignInUsed()
    return row


@raises(*SIGN_IN_ERRORS, errors.SsoSignInNotFound, errors.SsoSignInExpired, errors.SsoSignInUsed)
async def sign_in_on_page(
    actor: Actor, row_id: int, challenge: str, key: str, certificate: str, signature: str
) -> CertificateSignedIn:
    """The holder posts the signature on the page (a CA client signed the shown text): verified as any certificate
    sign-in, for this browser's challenge and authorization request only, once."""
    row = await _row(row_id, challenge, key)
    if row.approved_at is not None:
        raise errors.SsoSignInUsed()
    session = await _verified(actor, challenge, certificate, signature)
    family = await _family(session.refresh_token)
    now = clock.now()
    taken = await SsoCertificateSignIn.filter(id=row.id, approved_at=None, used_at=None).update(
        user_id=session.user.id, session_id=family, approved_at=now, used_at=now
    )
    if taken != 1:
        await sessions.end_session(actor, family, session.user.id, "sso_refused")
        raise errors.SsoSignInUsed()
    return CertificateSignedIn(session.user.id, family, session.amr)


@raises(errors.SsoSignInNotFound, errors.SsoSignInExpired, errors.SsoSignInUsed)
async def take_approval(row_id: int, challenge: str, key: str) -> CertificateSignedIn | None:
    """The page's poll: the app's approval of this browser's challenge, taken once; None while it waits."""
    row = await _row(row_id, challenge, key)
    now = clock.now()
    if row.approved_at is None:
        if row.expires_at <= now:
            raise errors.SsoSignInExpired()
        return None
    if row.expires_at + PICKUP_GRACE <= now:
        raise errors.SsoSignInExpired()
    if await SsoCertificateSignIn.filter(id=row.id, used_at=None).update(used_at=now) != 1:
        raise errors.SsoSignInUsed()
    if row.user_id is None or row.session_id is None:
        raise errors.SsoSignInNotFound()
    return CertificateSignedIn(row.user_id, row.session_id, ("cert",))
