"""Recognised CAs, binding and certificate sign-in in the domain, with two independent test CAs (CA互认):
certificates of both work; a revoked, an expired, a not-yet-valid, a wrong-key-usage, a wrong-organisation
and an unknown CA's certificate are each refused with its code; challenges work once for 2 minutes."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.x509.oid import NameOID

from domain.accounts import adapters, sessions
from domain.accounts.models import User
from domain.accounts.tokens import KeyRing, actor_from_claims
from domain.certificates import acts, errors, services
from domain.certificates.models import BoundCertificate, CertificateChallenge
from domain.common.actors import Actor, Role
from domain.common.errors import DomainError, PermissionDenied
from domain.common.models import OutboxEvent
from tests.domain import factories as df
from tests.support.pki import Leaf, TestCA

OPERATOR = Actor(user_id=1, org_id=1, roles=frozenset({Role.OPERATOR}))


@pytest.fixture
async def ring(db: Any, manual_clock: Any) -> AsyncIterator[KeyRing]:
    keys = KeyRing()
    await keys.load()
    before = (adapters.deps.keyring, adapters.deps.sms, adapters.deps.code_secret)
    adapters.configure(keys, adapters.deps.sms, adapters.deps.code_secret)
    yield keys
    adapters.configure(*before)


@pytest.fixture(scope="module")
def cas() -> tuple[TestCA, TestCA]:
    """Two independent CAs: ECDSA P-256 with the credit code in organizationIdentifier, RSA with it in OU."""
    return TestCA("山东CA"), TestCA("湖北CA", key_kind="rsa", code_attribute=NameOID.ORGANIZATIONAL_UNIT_NAME)


async def recognise(*hierarchies: TestCA) -> None:
    for ca in hierarchies:
        root = await services.register_authority(OPERATOR, f"{ca.name} 根", ca.root.public_bytes(_pem()).decode())
        inter = await services.register_authority(
            OPERATOR, f"{ca.name} 二级", ca.intermediate.public_bytes(_pem()).decode()
        )
        assert root.is_root
        assert not inter.is_root
        await services.upload_crl(OPERATOR, root.id, ca.root_crl())
        await services.upload_crl(OPERATOR, inter.id, ca.intermediate_crl())


def _pem() -> Any:
    from cryptography.hazmat.primitives.serialization import Encoding

    return Encoding.PEM


async def bidder() -> tuple[User, Actor]:
    org = await df.organisation()
    person = await df.user(org)
    return person, Actor(user_id=person.id, org_id=org.id, roles=frozenset({Role.BIDDER}), session_id="s")


async def bind(actor: Actor, leaf: Leaf) -> BoundCertificate:
    issued = await services.issue_challenge("bind")
    return await services.bind(actor, leaf.pem, issued.challenge, leaf.sign(issued.to_sign))


async def sign_in(leaf: Leaf, sms_code: str | None = None) -> sessions.Session:
    issued = await services.issue_challenge("sign_in")
    return await services.sign_in(Actor(), issued.challenge, leaf.pem, leaf.sign(issued.to_sign), sms_code)


async def test_certificates_of_both_recognised_cas_bind_and_sign_in(ring, cas):
    # given two independent CAs recognised with their CRLs, and a bidder of each
    a, b = cas
    await recognise(a, b)
    person_a, actor_a = await bidder()
    person_b, actor_b = await bidder()
    org_a = await person_a.organisation
    org_b = await person_b.organisation
    leaf_a = a.issue(org_a.name, org_a.credit_code)
    leaf_b = b.issue(org_b.name, f"统一社会信用代码:{org_b.credit_code}")
    # when each binds its certificate and signs in with it
    bound_a = await bind(actor_a, leaf_a)
    bound_b = await bind(actor_b, leaf_b)
    session_a = await sign_in(leaf_a)
    session_b = await sign_in(leaf_b)
    # then both work, and the tokens say they were signed in by certificate
    assert (bound_a.credit_code, bound_a.key_type) == (org_a.credit_code, "ec-p256")
    assert (bound_b.credit_code, bound_b.key_type) == (org_b.credit_code, "rsa-2048")
    assert session_a.user.id == person_a.id
    assert session_b.user.id == person_b.id
    claims = ring.verify(session_b.access_token)
    assert claims["amr"] == ["cert"]
    assert actor_from_claims(claims).amr == frozenset({"cert"})
    assert not actor_from_claims(claims).two_factor


async def test_certificate_and_sms_code_make_a_two_factor_session_kept_by_refresh(ring, cas):
    # given a bound certificate and an SMS code sent to the user's phone
    a, _ = cas
    await recognise(a)
    person, actor = await bidder()
    org = await person.organisation
    leaf = a.issue(org.name, org.credit_code)
    await bind(actor, leaf)
    await sessions.request_sms_code(Actor(), person.phone)
    code = adapters.deps.sms.sent[-1][1].split("验证码为 ")[1][:6]  # type: ignore[attr-defined]
    # when the user signs in with both, then refreshes the session
    session = await sign_in(leaf, code)
    refreshed = await sessions.refresh_session(Actor(), session.refresh_token)
    # then both tokens carry cert + sms: two factors
    assert session.amr == ("cert", "sms")
    for token in (session.access_token, refreshed.access_token):
        assert actor_from_claims(ring.verify(token)).two_factor


@pytest.mark.parametrize(
    ("make", "code"),
    [
        ("revoked", "CERTIFICATE_REVOKED"),
        ("expired", "CERTIFICATE_EXPIRED"),
        ("not_yet_valid", "CERTIFICATE_NOT_YET_VALID"),
        ("wrong_usage", "CERTIFICATE_WRONG_KEY_USAGE"),
        ("wrong_organisation", "CERTIFICATE_WRONG_ORGANISATION"),
        ("no_credit_code", "CERTIFICATE_CREDIT_CODE_MISSING"),
        ("unknown_ca", "CERTIFICATE_UNKNOWN_CA"),
        ("p384_key", "CERTIFICATE_ALGORITHM_UNSUPPORTED"),
    ],
)
async def test_a_bad_certificate_is_refused_with_its_code(ring, cas, make, code):
    # given CA A recognised (B is not), and a bidder
    a, b = cas
    person, actor = await bidder()
    org = await person.organisation
    now = datetime.now(UTC)
    leaf = {
        "revoked": lambda: a.issue(org.name, org.credit_code),
        "expired": lambda: a.issue(
            org.name, org.credit_code, not_before=now - timedelta(days=30), not_after=now - timedelta(days=1)
        ),
        "not_yet_valid": lambda: a.issue(org.name, org.credit_code, not_before=now + timedelta(days=1)),
        "wrong_usage": lambda: a.issue(
            org.name, org.credit_code, digital_signature=False, non_repudiation=False, key_encipherment=True
        ),
        "wrong_organisation": lambda: a.issue("另一家公司", df.f.new_credit_code()),
        "no_credit_code": lambda: a.issue(org.name, None),
        "unknown_ca": lambda: b.issue(org.name, org.credit_code),
        "p384_key": lambda: a.issue(org.name, org.credit_code, key_kind="ec-p384"),
    }[make]()
    if make == "revoked":
        a.revoke(leaf)
    await recognise(a)
    # when the bidder binds it
    with pytest.raises(DomainError) as err:
        await bind(actor, leaf)
    # then it is refused with its code, nothing is bound, and the refusal is audited
    assert err.value.code == code
    assert not await BoundCertificate.exists()
    assert await OutboxEvent.filter(type="certificate.bind", outcome="failure").count() == 1


async def test_a_certificate_without_a_current_crl_is_not_taken_on_trust(ring, cas):
    # given CA A recognised without any CRL
    a, _ = cas
    for cert in (a.root, a.intermediate):
        await services.register_authority(OPERATOR, "无吊销列表", cert.public_bytes(_pem()).decode())
    person, actor = await bidder()
    org = await person.organisation
    # when a bidder binds a certificate of A
    with pytest.raises(errors.CertificateRevocationUnknown):
        await bind(actor, a.issue(org.name, org.credit_code))


async def test_signing_in_needs_a_bound_certificate_and_a_fresh_challenge_used_once(ring, cas, manual_clock):
    # given a recognised CA, one bound and one unbound certificate of the same organisation
    a, _ = cas
    await recognise(a)
    person, actor = await bidder()
    org = await person.organisation
    bound, unbound = a.issue(org.name, org.credit_code), a.issue(org.name, org.credit_code)
    await bind(actor, bound)
    # when: an unbound certificate, a replayed challenge, an expired one, a signature over another challenge
    with pytest.raises(errors.CertificateNotBound):
        await sign_in(unbound)
    issued = await services.issue_challenge("sign_in")
    signature = bound.sign(issued.to_sign)
    await services.sign_in(Actor(), issued.challenge, bound.pem, signature)
    with pytest.raises(errors.ChallengeReplayed):
        await services.sign_in(Actor(), issued.challenge, bound.pem, signature)
    late = await services.issue_challenge("sign_in")
    manual_clock.advance(timedelta(minutes=2, seconds=1))
    with pytest.raises(errors.ChallengeExpired):
        await services.sign_in(Actor(), late.challenge, bound.pem, bound.sign(late.to_sign))
    other = await services.issue_challenge("sign_in")
    forged = await services.issue_challenge("sign_in")
    with pytest.raises(errors.CertificateSignatureInvalid):
        await services.sign_in(Actor(), forged.challenge, bound.pem, bound.sign(other.to_sign))
    binding = await services.issue_challenge("bind")
    with pytest.raises(errors.ChallengeUnknown):  # a bind challenge does not sign anyone in
        await services.sign_in(
            Actor(), binding.challenge, bound.pem, bound.sign(acts.encode(acts.sign_in(binding.challenge)))
        )
    # then the challenges are stored only as hashes
    assert all(len(c.challenge_hash) == 64 for c in await CertificateChallenge.all())


async def test_only_operators_recognise_cas_and_crls_must_come_from_their_ca(ring, cas):
    a, b = cas
    _, actor = await bidder()
    with pytest.raises(PermissionDenied):
        await services.register_authority(actor, "x", a.root.public_bytes(_pem()).decode())
    root = await services.register_authority(OPERATOR, "A 根", a.root.public_bytes(_pem()).decode())
    with pytest.raises(errors.CaAlreadyRecognised):
        await services.register_authority(OPERATOR, "A 根", a.root.public_bytes(_pem()).decode())
    with pytest.raises(errors.CrlWrongIssuer):
        await services.upload_crl(OPERATOR, root.id, b.root_crl())
    with pytest.raises(errors.NotACertificateAuthority):
        await services.register_authority(OPERATOR, "leaf", a.issue().pem)
    text = a.root_crl()
    first = await services.upload_crl(OPERATOR, root.id, text)
    assert (await services.upload_crl(OPERATOR, root.id, text)).id == first.id  # the same CRL again: no change
    with pytest.raises(errors.CrlOutdated):
        await services.upload_crl(OPERATOR, root.id, a.root_crl(first.this_update - timedelta(hours=1)))


async def test_a_withdrawn_ca_validates_nothing(ring, cas):
    a, _ = cas
    await recognise(a)
    person, actor = await bidder()
    org = await person.organisation
    leaf = a.issue(org.name, org.credit_code)
    await bind(actor, leaf)
    for ca in await services.authorities(OPERATOR):
        if ca.is_root:
            await services.set_authority_active(OPERATOR, ca.id, False)
    with pytest.raises(errors.CertificateUnknownCa):
        await sign_in(leaf)


async def test_a_ca_with_a_crl_url_has_its_crl_fetched_when_missing_or_due(ring, cas, manual_clock):
    # given a CA registered with a CRL URL and a fetcher standing in for the network
    a, _ = cas
    root = await services.register_authority(
        OPERATOR, "A 根", a.root.public_bytes(_pem()).decode(), crl_url="http://crl.example.cn/root.crl"
    )
    fetched: list[str] = []

    async def fetch(url: str) -> bytes:
        fetched.append(url)
        return base64.b64decode(a.root_crl(manual_clock.now() - timedelta(hours=1)))

    # when the periodic job runs now, again at once, and when the CRL is due
    first = await services.refresh_crls(fetch, manual_clock.now())
    again = await services.refresh_crls(fetch, manual_clock.now())
    manual_clock.advance(timedelta(days=7))
    later = await services.refresh_crls(fetch, manual_clock.now())
    # then it fetched when there was none and when it was due, not in between
    assert (first, again, later) == (1, 0, 1)
    assert fetched == ["http://crl.example.cn/root.crl"] * 2
    assert (await services.latest_crl(root.id)) is not None
