"""Signed acts in the domain: an objection, a complaint, a guarantee's issue and its claim carry the actor's
signature over their canonical content; it is stored with the act, audited, checked again, and refused when it
is not the actor's or not over the act."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest

from domain.accounts.models import Organisation
from domain.audit import services as audit
from domain.certificates import acts, errors, services, signatures
from domain.certificates.models import ActSignature, CertificateAuthority
from domain.certificates.signatures import Signed
from domain.common import clock
from domain.common.actors import Actor, Role
from domain.common.models import OutboxEvent
from domain.complaints import complaints, objections
from domain.guarantees import claims, issuance, shared
from domain.guarantees.models import Guarantee
from mobile_contract import signing
from tests.domain import factories as df
from tests.domain.certificates.test_services import OPERATOR, bind, cas, recognise, ring  # noqa: F401
from tests.domain.guarantees.test_services import AMOUNT, applied, letter, world
from tests.support.pki import TestCA
from tests.support.tendering import published_tender


async def signed_up_bidder(ca: Any) -> tuple[Actor, Any]:
    org = await df.organisation()
    person = await df.user(org)
    actor = Actor(user_id=person.id, org_id=org.id, roles=frozenset({Role.BIDDER}), session_id="s")
    leaf = ca.issue(org.name, org.credit_code)
    await bind(actor, leaf)
    return actor, leaf


async def test_an_objection_and_a_complaint_carry_verified_signatures(ring, cas):  # noqa: F811
    # given a published tender and a bidder with a bound certificate of a recognised CA
    a, b = cas
    await recognise(a, b)
    tender = await published_tender()
    actor, leaf = await signed_up_bidder(b)
    code = tender.lot.trade_code
    objection_text = "资格条件排斥潜在投标人"
    content = signing.objection_content(code, "documents", objection_text)
    # when it raises a signed objection and files a signed complaint
    objection = await objections.raise_objection(
        actor, tender.lot.id, "documents", objection_text, [], None, Signed(leaf.pem, leaf.sign(content))
    )
    knew_on = clock.today()
    complaint_content = signing.complaint_content(code, "other", "理由", "请求")
    complaint = await complaints.file_complaint(
        actor, tender.lot.id, "other", knew_on, "理由", "请求", [], None, Signed(leaf.pem, leaf.sign(complaint_content))
    )
    # then both signatures are stored with their acts, over the content the client built, and audited
    rows = await ActSignature.all().order_by("id")
    assert [(r.act, r.object_type, r.object_id) for r in rows] == [
        ("objection.raise", "Objection", str(objection.id)),
        ("complaint.file", "Complaint", str(complaint.id)),
    ]
    assert rows[0].content == content == acts.encode(acts.objection_raise(code, "documents", objection_text)).decode()
    assert rows[1].algorithm == "RS256"
    assert await OutboxEvent.filter(type="signature.recorded").count() == 2
    for row in rows:
        signatures.verify_evidence(signatures.as_evidence(row))
        checked = await signatures.recheck(row)
        assert checked.signature_valid
        assert checked.audit_digest_matches is None  # not dispatched to the audit trail in this test


async def test_a_signature_that_is_not_the_actors_changes_nothing(ring, cas):  # noqa: F811
    # given two bidders with bound certificates
    a, _ = cas
    await recognise(a)
    tender = await published_tender()
    actor, leaf = await signed_up_bidder(a)
    other, other_leaf = await signed_up_bidder(a)
    content = signing.objection_content(tender.lot.trade_code, "documents", "理由")
    # when one signs with the other's certificate, or signs other content, or with an unbound certificate
    with pytest.raises(errors.CertificateWrongOrganisation):
        await objections.raise_objection(
            actor, tender.lot.id, "documents", "理由", [], None, Signed(other_leaf.pem, other_leaf.sign(content))
        )
    with pytest.raises(errors.CertificateSignatureInvalid):
        await objections.raise_objection(
            actor, tender.lot.id, "documents", "另一理由", [], None, Signed(leaf.pem, leaf.sign(content))
        )
    org = await (await df.user(await df.organisation())).organisation
    stranger = a.issue(org.name, org.credit_code)
    with pytest.raises(errors.CertificateNotBound):
        await objections.raise_objection(
            actor, tender.lot.id, "documents", "理由", [], None, Signed(stranger.pem, stranger.sign(content))
        )
    # then no objection and no signature exist
    assert not await ActSignature.exists()
    assert await services.my_certificates(other)


async def signer_of(org_id: int, role: Role, ca: TestCA) -> tuple[Actor, Any]:
    """A person of the organisation with `role`, whose certificate of `ca` is bound to their account."""
    org = await Organisation.get(id=org_id)
    person = await df.user(org)
    actor = Actor(user_id=person.id, org_id=org.id, roles=frozenset({role}), session_id="s")
    leaf = ca.issue(org.name, org.credit_code)
    await bind(actor, leaf)
    return actor, leaf


async def current_crls(*hierarchies: TestCA) -> None:
    """CRLs issued now: the clock moved past the week the first ones were good for."""
    this_update = clock.now() - timedelta(hours=1)
    for ca in hierarchies:
        for authority in await CertificateAuthority.filter(name__startswith=ca.name):
            crl = ca.root_crl(this_update) if authority.is_root else ca.intermediate_crl(this_update)
            await services.upload_crl(OPERATOR, authority.id, crl)


def tampered(signature: str) -> str:
    raw = bytearray(base64.b64decode(signature))
    raw[-1] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


async def test_a_guarantees_issue_and_claim_carry_verified_signatures(ring, cas, manual_clock):  # noqa: F811
    # given an application for a guarantee, and people of the guarantor and of the tenderer with certificates
    # of two recognised CAs bound to their accounts
    a, b = cas
    await recognise(a, b)
    w = await world(registrants_secret=False)
    _, g = await applied(w)
    issuer, issuer_leaf = await signer_of(w.guarantor.org_id or 0, Role.GUARANTOR, a)
    claimant, claimant_leaf = await signer_of(w.tenderer.org_id or 0, Role.TENDERER, b)
    number = shared.application_no(g)
    sent = await letter(w, g) + "\n"  # as the guarantor's system sends it, a newline included
    issue_content = signing.guarantee_issue_content(number, sent)
    # when the guarantor issues it, signing the letter exactly as sent
    done = await issuance.issue(issuer, g.id, sent, signed=Signed(issuer_leaf.pem, issuer_leaf.sign(issue_content)))
    # and, after the bid deadline, the tenderer claims it, signing the claim
    manual_clock.set(w.deadline + timedelta(days=1))
    await current_crls(a, b)
    reason = "投标截止后撤销投标文件（实施条例第三十五条）"
    claim_content = signing.guarantee_claim_content(number, reason)
    claimed = await claims.claim(
        claimant, g.id, AMOUNT, reason, signed=Signed(claimant_leaf.pem, claimant_leaf.sign(claim_content))
    )
    # then both acts happened, each with its signature stored over the content the client built
    assert (done.status, claimed.status) == ("issued", "claimed")
    rows = await ActSignature.all().order_by("id")
    assert [(r.act, r.object_type, r.object_id, r.lot_id) for r in rows] == [
        ("guarantee.issue", "Guarantee", str(g.id), w.lot.id),
        ("guarantee.claim", "Guarantee", str(g.id), w.lot.id),
    ]
    assert rows[0].content == issue_content == acts.encode(acts.guarantee_issue(number, sent)).decode()
    assert rows[1].content == claim_content == acts.encode(acts.guarantee_claim(number, reason)).decode()
    assert [(r.user_id, r.organisation_id, r.algorithm, r.verified) for r in rows] == [
        (issuer.user_id, issuer.org_id, "ES256", True),
        (claimant.user_id, claimant.org_id, "RS256", True),
    ]
    # and once on the audit chain, each entry's digest matches its stored signature, which verifies again
    assert await OutboxEvent.filter(type="signature.recorded").count() == 2
    await audit.append(await OutboxEvent.all().order_by("id"))
    for row in rows:
        signatures.verify_evidence(signatures.as_evidence(row))
        checked = await signatures.recheck(row)
        assert checked.ok
        assert checked.audit_digest_matches is True
        assert checked.audit_seq is not None


async def test_a_wrong_signature_on_a_guarantees_issue_or_claim_changes_nothing(ring, cas, manual_clock):  # noqa: F811
    # given an application, and people of the guarantor, of the tenderer and of another guarantor with bound
    # certificates
    a, _ = cas
    await recognise(a)
    w = await world(registrants_secret=False)
    _, g = await applied(w)
    issuer, leaf = await signer_of(w.guarantor.org_id or 0, Role.GUARANTOR, a)
    claimant, claimant_leaf = await signer_of(w.tenderer.org_id or 0, Role.TENDERER, a)
    _, other_leaf = await signer_of((await df.organisation(kinds=["guarantor"])).id, Role.GUARANTOR, a)
    token = await letter(w, g)
    number = shared.application_no(g)
    content = signing.guarantee_issue_content(number, token)
    # when the guarantor signs another letter, the claim's content, with another guarantor's certificate, or
    # sends a signature altered on the way
    refused = [
        (Signed(leaf.pem, leaf.sign(signing.guarantee_issue_content(number, await letter(w, g)))), "invalid"),
        (Signed(leaf.pem, leaf.sign(signing.guarantee_claim_content(number, token))), "invalid"),
        (Signed(other_leaf.pem, other_leaf.sign(content)), "organisation"),
        (Signed(leaf.pem, tampered(leaf.sign(content))), "invalid"),
    ]
    expected = {"invalid": errors.CertificateSignatureInvalid, "organisation": errors.CertificateWrongOrganisation}
    for signed, kind in refused:
        with pytest.raises(expected[kind]):
            await issuance.issue(issuer, g.id, token, signed=signed)
    # then the guarantee is still an application, and no issue and no signature were recorded
    assert (await Guarantee.get(id=g.id)).status == "applied"
    assert not await ActSignature.exists()
    assert not await OutboxEvent.filter(type__in=["guarantee.issued", "signature.recorded"]).exists()

    # when, once the letter is issued correctly signed and the deadline passed, the tenderer signs another
    # reason, or the right reason with the guarantor's certificate
    await issuance.issue(issuer, g.id, token, signed=Signed(leaf.pem, leaf.sign(content)))
    manual_clock.set(w.deadline + timedelta(days=1))
    await current_crls(a)
    reason = "中标人拒签合同（实施条例第七十四条）"
    with pytest.raises(errors.CertificateSignatureInvalid):
        await claims.claim(claimant, g.id, AMOUNT, reason, signed=Signed(claimant_leaf.pem, claimant_leaf.sign(reason)))
    guarantors = Signed(leaf.pem, leaf.sign(signing.guarantee_claim_content(number, reason)))
    with pytest.raises(errors.CertificateWrongOrganisation):
        await claims.claim(claimant, g.id, AMOUNT, reason, signed=guarantors)
    # then the guarantee stays issued and unclaimed, with only the issue's signature
    after = await Guarantee.get(id=g.id)
    assert (after.status, after.claim_reason, after.claimed_at) == ("issued", None, None)
    assert [r.act for r in await ActSignature.all()] == ["guarantee.issue"]
    assert not await OutboxEvent.filter(type="guarantee.claimed").exists()
