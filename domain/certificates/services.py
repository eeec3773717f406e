"""Digital certificates with mutual recognition (CA互认): the CAs operators recognise and their CRLs,
certificates users bind to their accounts, and sign-in by certificate (with an SMS code: two factors).

A certificate is accepted only on a path to a recognised root, inside every validity period, with a
current CRL of every CA on the path that does not list it, and with a signing key usage. Whoever
presents a certificate proves they hold its key by signing a one-time challenge.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from domain.accounts import errors as account_errors
from domain.accounts import sessions, sms_codes
from domain.accounts.models import Organisation, User
from domain.certificates import acts, errors, pki
from domain.certificates import events as ev
from domain.certificates.models import BoundCertificate, CertificateAuthority, CertificateChallenge, RevocationList
from domain.common import clock, events
from domain.common.actors import Actor, Role
from domain.common.errors import InvalidInput, NotFound, PermissionDenied, raises, required_text
from domain.common.events import Audience, use_case
from domain.common.idempotency import run_once
from domain.sso.models import SsoCertificateSignIn

log = logging.getLogger("palmtrade.certificates")

CHALLENGE_TTL = timedelta(minutes=2)
CHALLENGE_KEPT = timedelta(days=1)  # used and expired challenges are purged after this
PURPOSES = {"sign_in": acts.sign_in, "bind": acts.bind}
CRL_REFRESH_LEAD = timedelta(hours=6)  # a CRL with a fetch URL is fetched again this long before next_update


# ---------------------------------------------------------------- recognised CAs (operators)


def _operator(actor: Actor) -> int:
    if not actor.has(Role.OPERATOR) or actor.user_id is None:
        raise PermissionDenied()
    return actor.user_id


@raises(errors.CertificateMalformed, errors.NotACertificateAuthority, errors.CaAlreadyRecognised)
@use_case("certificate_authority.register", "CertificateAuthority")
async def register_authority(
    actor: Actor, name: str, certificate: str, crl_url: str | None = None, idempotency_key: str | None = None
) -> CertificateAuthority:
    """Recognises a CA certificate: a self-signed one is a root (a trust anchor), any other an
    intermediate that completes paths to a recognised root. Several CAs are recognised at once."""
    operator = _operator(actor)
    label = required_text(name, "name", 200)
    url = required_text(crl_url, "crlUrl", 500) if crl_url else None
    if url is not None and not url.startswith(("http://", "https://")):
        raise InvalidInput(field="crlUrl")
    cert = pki.load_certificate(certificate)
    if not pki.is_ca(cert):
        raise errors.NotACertificateAuthority()
    fingerprint = pki.fingerprint(cert)
    not_before, not_after = pki.valid_dates(cert)
    root = pki.is_self_signed(cert)

    async def create() -> dict[str, Any]:
        if await CertificateAuthority.exists(fingerprint=fingerprint):
            raise errors.CaAlreadyRecognised()
        ca = await CertificateAuthority.create(
            name=label,
            subject=pki.subject_text(cert.subject),
            fingerprint=fingerprint,
            der=pki.b64(pki.der_of(cert)),
            is_root=root,
            not_before=not_before,
            not_after=not_after,
            crl_url=url,
            created_by=operator,
            created_at=clock.now(),
        )
        await events.record(
            ev.AuthorityRegistered(
                object_id=str(ca.id), name=label, subject=ca.subject, fingerprint=fingerprint, is_root=root
            ),
            actor,
        )
        return {"id": ca.id}

    request = {"name": label, "fingerprint": fingerprint, "crl_url": url}
    result, _ = await run_once(actor, idempotency_key, "certificate_authority.register", request, create)
    return await CertificateAuthority.get(id=result["id"])


@raises()
@use_case("certificate_authority.set_active", "CertificateAuthority", lambda actor, ca_id, *a, **k: str(ca_id))
async def set_authority_active(actor: Actor, ca_id: int, active: bool) -> CertificateAuthority:
    """Withdraws or reinstates the recognition of a CA: a withdrawn CA validates no certificate."""
    _operator(actor)
    async with in_transaction():
        ca = await CertificateAuthority.select_for_update().get_or_none(id=ca_id)
        if ca is None:
            raise NotFound()
        if ca.is_active != active:
            ca.is_active = active
            await ca.save(update_fields=["is_active"])
            event = ev.AuthorityReinstated if active else ev.AuthorityWithdrawn
            await events.record(event(object_id=str(ca.id)), actor)
    return ca


@raises(errors.CrlMalformed, errors.CrlWrongIssuer, errors.CrlOutdated)
@use_case("certificate_authority.crl_upload", "CertificateAuthority", lambda actor, ca_id, *a, **k: str(ca_id))
async def upload_crl(actor: Actor, ca_id: int, crl_text: str) -> RevocationList:
    """Stores a CRL of a recognised CA after checking its issuer and signature; the newest by
    thisUpdate is the one in force, an older one is refused."""
    _operator(actor)
    crl = pki.load_crl(crl_text)
    return await _store_crl(actor, ca_id, crl)


async def _store_crl(actor: Actor, ca_id: int, crl: x509.CertificateRevocationList) -> RevocationList:
    ca = await CertificateAuthority.get_or_none(id=ca_id)
    if ca is None:
        raise NotFound()
    issuer = pki.load_certificate(ca.der)
    if not pki.crl_issued_by(crl, issuer):
        raise errors.CrlWrongIssuer()
    der = crl.public_bytes(serialization.Encoding.DER)
    sha = hashlib.sha256(der).hexdigest()
    this_update, next_update = crl.last_update_utc, crl.next_update_utc
    async with in_transaction():
        latest = await RevocationList.filter(authority_id=ca.id).order_by("-this_update", "-id").first()
        if latest is not None:
            if latest.sha256 == sha:
                return latest
            if this_update <= latest.this_update:
                raise errors.CrlOutdated()
        row = await RevocationList.create(
            authority_id=ca.id,
            der=pki.b64(der),
            sha256=sha,
            this_update=this_update,
            next_update=next_update,
            revoked_count=len(crl),
            uploaded_by=actor.user_id,
            uploaded_at=clock.now(),
        )
        await events.record(
            ev.CrlUploaded(
                object_id=str(ca.id),
                sha256=sha,
                this_update=this_update.isoformat(),
                next_update=next_update.isoformat() if next_update else None,
                revoked=len(crl),
            ),
            actor,
        )
    return row


async def refresh_crls(fetch: Callable[[str], Awaitable[bytes]], now: datetime) -> int:
    """Fetches the CRL of every active CA with a fetch URL whose CRL is missing or due within
    CRL_REFRESH_LEAD (a periodic job; the adapter that fetches is wired in api/). Returns CRLs stored."""
    from domain.common.actors import SYSTEM

    stored = 0
    for ca in await CertificateAuthority.filter(is_active=True, crl_url__not_isnull=True):
        latest = await RevocationList.filter(authority_id=ca.id).order_by("-this_update").first()
        if latest is not None and (latest.next_update is None or latest.next_update - CRL_REFRESH_LEAD > now):
            continue
        try:
            data = await fetch(str(ca.crl_url))
            pem = data.lstrip().startswith(b"-----")
            crl = x509.load_pem_x509_crl(data) if pem else x509.load_der_x509_crl(data)
            await _store_crl(SYSTEM, ca.id, crl)
            stored += 1
        except Exception:  # one CA's unreachable URL must not stop the others
            log.warning("fetching the CRL of CA %s from %s failed", ca.id, ca.crl_url, exc_info=True)
    return stored


def authorities(actor: Actor) -> QuerySet[CertificateAuthority]:
    """Every registered CA (operators and supervisors)."""
    if not actor.has(Role.OPERATOR, Role.SUPERVISOR):
        raise PermissionDenied()
    return CertificateAuthority.all()


async def latest_crl(ca_id: int) -> RevocationList | None:
    return await RevocationList.filter(authority_id=ca_id).order_by("-this_update", "-id").first()


async def trust() -> pki.Trust:
    """The active recognised CAs and the CRL in force of each."""
    roots: list[bytes] = []
    intermediates: list[bytes] = []
    crls: list[bytes] = []
    for ca in await CertificateAuthority.filter(is_active=True).order_by("id"):
        der = pki.load_certificate(ca.der)
        (roots if ca.is_root else intermediates).append(pki.der_of(der))
        latest = await latest_crl(ca.id)
        if latest is not None:
            crls.append(base64.b64decode(latest.der))
    return pki.Trust(roots=roots, intermediates=intermediates, crls=crls)


async def validate(cert: x509.Certificate, now: datetime | None = None) -> pki.ValidPath:
    """The certificate's path to a recognised root, now (typed errors otherwise)."""
    return await pki.validate(cert, await trust(), now or clock.now())


# ---------------------------------------------------------------- challenges


@dataclass(frozen=True, slots=True)
class Challenge:
    challenge: str
    purpose: str
    expires_at: datetime

    @property
    def to_sign(self) -> str:
        """The exact text the client signs (UTF-8)."""
        return acts.encode(PURPOSES[self.purpose](self.challenge)).decode()


def _hash(challenge: str) -> str:
    return hashlib.sha256(challenge.encode()).hexdigest()


@raises()
async def issue_challenge(purpose: str) -> Challenge:
    """A one-time challenge (256 random bits) for certificate sign-in or binding, valid 2 minutes; only
    its SHA-256 is stored, in the database, so any server process can take it back."""
    if purpose not in PURPOSES:
        raise InvalidInput(field="purpose")
    challenge = secrets.token_urlsafe(32)
    now = clock.now()
    await CertificateChallenge.create(
        challenge_hash=_hash(challenge), purpose=purpose, created_at=now, expires_at=now + CHALLENGE_TTL
    )
    return Challenge(challenge=challenge, purpose=purpose, expires_at=now + CHALLENGE_TTL)


async def _consume(challenge: str, purpose: str, now: datetime) -> None:
    """Uses the challenge up: once, before it expires, for its purpose."""
    if not challenge or len(challenge) > 128:
        raise errors.ChallengeUnknown()
    row = await CertificateChallenge.get_or_none(challenge_hash=_hash(challenge), purpose=purpose)
    if row is None:
        raise errors.ChallengeUnknown()
    if row.used_at is not None:
        raise errors.ChallengeReplayed()
    if row.expires_at <= now:
        raise errors.ChallengeExpired()
    # the condition again in the write: one use even when two processes take it at once
    if await CertificateChallenge.filter(id=row.id, used_at=None).update(used_at=now) != 1:
        raise errors.ChallengeReplayed()


async def purge_challenges(now: datetime) -> int:
    """Deletes challenges a day past their expiry, with the provider pages' certificate sign-ins (a periodic job)."""
    await SsoCertificateSignIn.filter(expires_at__lt=now - CHALLENGE_KEPT).delete()
    return int(await CertificateChallenge.filter(expires_at__lt=now - CHALLENGE_KEPT).delete())


# ---------------------------------------------------------------- binding


def is_person(actor: Actor) -> bool:
    """A user signed in on the app or the web, not a terminal, a kiosk session, an integrator or an expert."""
    return actor.user_id is not None and actor.terminal_id is None and actor.client_id is None


def check_organisation(cert: x509.Certificate, org: Organisation) -> str | None:
    """The credit code of an organisation certificate when it is the organisation's; typed errors
    otherwise. A personal certificate (no O=, no credit code) carries none."""
    if not pki.is_organisation_certificate(cert):
        return None
    code = pki.credit_code_of(cert)
    if code is None:
        raise errors.CertificateCreditCodeMissing()
    if code != org.credit_code:
        raise errors.CertificateWrongOrganisation()
    return code


@raises(
    *errors.PATH_ERRORS,
    *errors.CHALLENGE_ERRORS,
    errors.CertificateCreditCodeMissing,
    errors.CertificateWrongOrganisation,
    errors.CertificateAlreadyBound,
)
@use_case("certificate.bind", "BoundCertificate")
async def bind(actor: Actor, certificate: str, challenge: str, signature: str) -> BoundCertificate:
    """Binds a certificate to the signed-in user once they proved they hold its key (a signed `bind`
    challenge); an organisation certificate must carry their organisation's credit code."""
    if not is_person(actor):
        raise PermissionDenied()
    cert = pki.load_certificate(certificate)
    pki.key_type(cert)
    now = clock.now()
    await _consume(challenge, "bind", now)
    pki.verify_signature(cert, acts.encode(acts.bind(challenge)), signature)
    await validate(cert, now)
    user = await User.filter(id=actor.user_id, is_active=True).select_related("organisation").first()
    if user is None:
        raise PermissionDenied()
    code = check_organisation(cert, user.organisation)
    fingerprint = pki.fingerprint(cert)
    async with in_transaction():
        existing = await BoundCertificate.get_or_none(fingerprint=fingerprint)
        if existing is not None:
            if existing.user_id == user.id:
                return existing
            if existing.organisation_id != user.organisation_id:
                raise errors.CertificateWrongOrganisation()
            raise errors.CertificateAlreadyBound()
        not_before, not_after = pki.valid_dates(cert)
        bound = await BoundCertificate.create(
            user_id=user.id,
            organisation_id=user.organisation_id,
            fingerprint=fingerprint,
            der=pki.b64(pki.der_of(cert)),
            subject=pki.subject_text(cert.subject),
            issuer=pki.subject_text(cert.issuer),
            serial=format(cert.serial_number, "x"),
            credit_code=code,
            key_type=pki.key_type(cert),
            not_before=not_before,
            not_after=not_after,
            bound_at=now,
        )
        await events.record(
            ev.CertificateBound(
                object_id=str(bound.id),
                user_id=user.id,
                fingerprint=fingerprint,
                subject=bound.subject,
                issuer=bound.issuer,
                serial=bound.serial,
                audience=Audience(users=(user.id,), roles=()),
            ),
            actor,
        )
    return bound


@raises()
@use_case("certificate.unbind", "BoundCertificate", lambda actor, bound_id, *a, **k: str(bound_id))
async def unbind(actor: Actor, bound_id: int) -> None:
    """Removes one of the caller's bound certificates: it signs the caller in no more."""
    if not is_person(actor):
        raise PermissionDenied()
    async with in_transaction():
        bound = await BoundCertificate.get_or_none(id=bound_id, user_id=actor.user_id)
        if bound is None:
            raise NotFound()
        await bound.delete()
        await events.record(
            ev.CertificateUnbound(
                object_id=str(bound_id),
                user_id=bound.user_id,
                fingerprint=bound.fingerprint,
                audience=Audience(users=(bound.user_id,), roles=()),
            ),
            actor,
        )


async def my_certificates(actor: Actor) -> list[BoundCertificate]:
    if actor.user_id is None:
        raise PermissionDenied()
    return await BoundCertificate.filter(user_id=actor.user_id).order_by("-id")


# ---------------------------------------------------------------- sign-in


@raises(
    *errors.PATH_ERRORS,
    *errors.CHALLENGE_ERRORS,
    errors.CertificateNotBound,
    errors.CertificateWrongOrganisation,
    account_errors.SmsCodeInvalid,
    account_errors.SmsCodeExhausted,
    account_errors.AccountLocked,
    account_errors.AccountDisabled,
    errors.CertificateCreditCodeMissing,
)
@use_case("user.sign_in", "User")
async def sign_in(
    actor: Actor, challenge: str, certificate: str, signature: str, sms_code: str | None = None
) -> sessions.Session:
    """A session for the user the certificate is bound to, when it signed the one-time challenge and its
    path validates now; with the latest SMS code of the user's phone as well, a two-factor session
    (amr cert + sms). The challenge is used up by the attempt, whatever its outcome."""
    cert = pki.load_certificate(certificate)
    now = clock.now()
    await _consume(challenge, "sign_in", now)
    pki.verify_signature(cert, acts.encode(acts.sign_in(challenge)), signature)
    await validate(cert, now)
    bound = await BoundCertificate.get_or_none(fingerprint=pki.fingerprint(cert))
    if bound is None:
        raise errors.CertificateNotBound()
    user = await User.filter(id=bound.user_id).select_related("organisation").first()
    if user is None:
        raise errors.CertificateNotBound()
    sessions.ensure_not_locked(user, now)
    if user.organisation_id != bound.organisation_id:
        raise errors.CertificateWrongOrganisation()
    check_organisation(cert, user.organisation)
    amr: tuple[str, ...] = ("cert",)
    if sms_code is not None:

        async def holder(at: datetime) -> User | None:
            fresh = await User.get_or_none(id=bound.user_id)
            if fresh is not None:
                sessions.ensure_not_locked(fresh, at)
            return fresh

        user = await sms_codes.redeem_code(user.phone, sms_codes.SMS_PURPOSE_LOGIN, sms_code, holder)
        amr = ("cert", "sms")
    return await sessions.open_session(actor, user, "cert", amr)
