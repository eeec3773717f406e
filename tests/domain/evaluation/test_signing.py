"""Signed evaluation in the domain: a sheet is signed over its canonical content with the member's certificate;
an expired certificate, a certificate bound to another expert, and both or neither proof are typed refusals that
store nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from domain.certificates import errors as cert_errors
from domain.certificates import services as certificates
from domain.evaluation import scoring, signing
from domain.evaluation.records import EvaluationSignature
from domain.evaluation.scoring import Judgement
from tests.support.pki import Leaf, TestCA
from tests.support.tendering import OPERATOR, evaluating_tender, expert_actor


async def recognise(ca: TestCA, clock: Any) -> None:
    issued = clock.now() - timedelta(hours=1)
    for cert, crl in ((ca.root, ca.root_crl(issued)), (ca.intermediate, ca.intermediate_crl(issued))):
        made = await certificates.register_authority(OPERATOR, ca.name, cert.public_bytes(Encoding.PEM).decode())
        await certificates.upload_crl(OPERATOR, made.id, crl)


async def bind(expert_id: int, leaf: Leaf) -> None:
    issued = await certificates.issue_challenge("bind")
    await signing.bind_certificate(expert_actor(expert_id), leaf.pem, issued.challenge, leaf.sign(issued.to_sign))


async def sign(expert_id: int, lot_id: int, leaf: Leaf) -> EvaluationSignature:
    target = await signing.to_sign(expert_actor(expert_id), lot_id, signing.SignKind.SHEET)
    proof = signing.Signed(certificate=leaf.pem, signature=leaf.sign(target.text))
    return await signing.sign(expert_actor(expert_id), lot_id, signing.SignKind.SHEET, proof)


async def test_a_sheet_signed_by_certificate_and_the_refusals_that_store_nothing(db, manual_clock):
    # given a started evaluation, two members with sheets handed in and their certificates bound
    t = await evaluating_tender(manual_clock, [800_000_00, 700_000_00, 765_000_00])
    await scoring.start(OPERATOR, t.lot.id)
    first, second = t.committee[:2]
    for member in (first, second):
        judged = [Judgement(b.id, True, None, 4000, 1500) for b in t.valid_bids]
        await scoring.submit_sheet(expert_actor(member), t.lot.id, judged)
    ca = TestCA("评标域CA")
    await recognise(ca, manual_clock)
    mine = ca.issue(person="专家甲", not_after=manual_clock.now() + timedelta(days=1))
    theirs = ca.issue(person="专家乙")
    await bind(first, mine)
    await bind(second, theirs)

    # when the first signs with its own certificate
    signed = await sign(first, t.lot.id, mine)

    # then the signature covers the canonical sheet
    content = json.loads(signed.content)
    assert (content["act"], content["expertId"], content["v"]) == ("evaluation.sheet", first, 1)
    assert [e["bid"] for e in content["entries"]] == sorted(b.id for b in t.valid_bids)
    assert (signed.method, signed.kind) == ("certificate", "sheet")

    # when the second signs with the first's certificate, with no proof, and the first after its certificate expired
    with pytest.raises(signing.CertificateOfAnotherExpert):
        await sign(second, t.lot.id, mine)
    with pytest.raises(signing.SigningMethodMissing):
        await signing.sign(expert_actor(second), t.lot.id, signing.SignKind.SHEET, signing.Signed())
    manual_clock.advance(days=2)
    again = [Judgement(b.id, True, None, 4100, 1500) for b in t.valid_bids]
    await scoring.submit_sheet(expert_actor(first), t.lot.id, again)
    with pytest.raises(cert_errors.CertificateExpired):
        await sign(first, t.lot.id, mine)

    # then nothing was stored for them, and the replaced sheet's signature is superseded
    rows = await EvaluationSignature.filter(evaluation_id=signed.evaluation_id).order_by("id")
    assert [(r.expert_id, r.superseded_at is not None) for r in rows] == [(first, True)]
