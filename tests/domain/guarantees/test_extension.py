"""A guarantee a moved deadline left short is no security, with its reason, until its guarantor extends it (保函展期):
the applicant asks, the guarantor signs an amended letter (or refuses), each step once however often it is sent."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.common.actors import Actor, Role
from domain.common.errors import NotFound
from domain.common.models import OutboxEvent
from domain.guarantees import extension, issuance, reading
from domain.guarantees.errors import (
    ExtensionNotRequested,
    GuaranteeAlreadyCovers,
    GuaranteeNotActive,
    GuaranteeValidityTooShort,
    LetterMismatch,
    NotTheApplicant,
)
from domain.guarantees.models import Guarantee
from domain.registration import security
from domain.registration import services as registration
from domain.registration.security import GuaranteeValidityShortfall
from domain.tendering import clarifications
from domain.tendering.clarifications import ClarificationForm
from tests.domain.guarantees.test_services import applied, bidder, issued, letter, world


async def _short_world(manual_clock):  # type: ignore[no-untyped-def]
    """A tender with one issued guarantee valid for the deadline plus 90 days (and an application nobody decided), then
    a change 10 days before the deadline that moves it 5 days later."""
    w = await world()
    holder, g = await issued(w)
    _, pending = await applied(w)
    manual_clock.advance(timedelta(days=10))
    await clarifications.publish(w.tenderer, ClarificationForm(lot_id=w.lot.id, changes_documents=True, title="修改"))
    required = manual_clock.now() + timedelta(days=15 + 90)
    return w, holder, g, pending, required


async def test_a_guarantee_a_moved_deadline_left_short_is_no_security_until_it_is_extended(db, manual_clock):
    # given an issued guarantee that counted as security
    w, holder, g, _, required = await _short_world(manual_clock)
    org = holder.org_id or 0
    # then after the move it does not, and the reason is typed with the validity now required
    assert not await registration.security_in_place(w.lot.id, org)
    why = await security.shortfall(w.lot.id, org, manual_clock.now())
    assert isinstance(why, GuaranteeValidityShortfall)
    assert why.code == "GUARANTEE_VALIDITY_SHORT"
    assert why.params["required_until"] == required
    assert "投标有效期" in why.message("zh")
    assert "extended" in why.message("en")

    # when the applicant asks for less than required, then for enough, twice with one key and once more without
    with pytest.raises(GuaranteeValidityTooShort):
        await extension.request(holder, g.id, required - timedelta(days=1))
    for key in ("ext-1", "ext-1", None):
        asked = await extension.request(holder, g.id, required, key)
    # then one request is recorded, told to the guarantor
    assert asked.extension_until == required
    [told] = await OutboxEvent.filter(type="guarantee.extension_requested")
    assert w.guarantor.org_id in told.audience["orgs"]

    # when the guarantor answers with a letter that does not say the asked expiry
    payload = {"letterNo": g.letter_no, "validUntil": (required - timedelta(hours=1)).isoformat()}
    with pytest.raises(LetterMismatch) as wrong:
        await extension.extend(w.guarantor, g.id, await letter(w, asked, **payload))
    assert wrong.value.field == "validUntil"
    # or under another letter number
    with pytest.raises(LetterMismatch) as renumbered:
        await extension.extend(w.guarantor, g.id, await letter(w, asked, validUntil=required.isoformat()))
    assert renumbered.value.field == "letterNo"
    # then nothing changed
    unchanged = await Guarantee.get(id=g.id)
    assert (unchanged.valid_until, unchanged.letter_sha256) == (g.valid_until, g.letter_sha256)

    # when it signs the amended letter, and sends it again
    amended = await letter(w, asked, letterNo=g.letter_no, validUntil=required.isoformat())
    extended = await extension.extend(w.guarantor, g.id, amended)
    again = await extension.extend(w.guarantor, g.id, amended)
    # then the guarantee lasts until then with the new letter, once; it covers and is security again
    assert extended.valid_until == again.valid_until == required
    assert extended.letter_sha256 != g.letter_sha256
    assert extended.letter_no == g.letter_no
    assert extended.verification_code == g.verification_code
    assert extended.extension_until is None
    assert extended.extended_at == manual_clock.now()
    [done] = await OutboxEvent.filter(type="guarantee.extended")
    assert done.payload["previous_letter_sha256"] == g.letter_sha256
    assert done.payload["previous_valid_until"] == g.valid_until.isoformat()
    assert await registration.security_in_place(w.lot.id, org)
    assert await security.shortfall(w.lot.id, org, manual_clock.now()) is None
    # and a kiosk's check shows the amended letter
    shown = await reading.check_authenticity(g.letter_no or "", g.verification_code or "")
    assert shown is not None
    assert shown.letter.valid_until == required
    # and a further request is refused: it covers already
    with pytest.raises(GuaranteeAlreadyCovers):
        await extension.request(holder, g.id, required + timedelta(days=1))


async def test_extension_requests_and_answers_refused_with_their_reason(db, manual_clock):
    # given a short guarantee, a pending application and another bidder
    w, holder, g, pending, required = await _short_world(manual_clock)
    stranger = await bidder(w)
    guarantor_as_bidder = Actor(user_id=holder.user_id, org_id=w.guarantor.org_id, roles=frozenset({Role.BIDDER}))
    # then only its applicant may ask, only for an issued guarantee
    with pytest.raises(NotFound):
        await extension.request(stranger, g.id, required)
    with pytest.raises(NotTheApplicant):
        await extension.request(guarantor_as_bidder, g.id, required)
    with pytest.raises(GuaranteeNotActive) as not_active:
        await extension.request(await _applicant(pending), pending.id, required)
    assert not_active.value.params["state"] == "applied"
    # and the guarantor cannot extend what nobody asked
    with pytest.raises(ExtensionNotRequested):
        await extension.extend(w.guarantor, g.id, await letter(w, g, letterNo=g.letter_no))

    # when it is asked and refuses, with its reason
    await extension.request(holder, g.id, required)
    refused = await extension.decline(w.guarantor, g.id, "反担保不足")
    # then the guarantee stays short, the refusal is told, and a second refusal has nothing to answer
    assert refused.extension_until is None
    assert refused.extension_decline_reason == "反担保不足"
    assert refused.valid_until == g.valid_until
    assert not await registration.security_in_place(w.lot.id, holder.org_id or 0)
    [told] = await OutboxEvent.filter(type="guarantee.extension_declined")
    assert told.payload["reason"] == "反担保不足"
    with pytest.raises(ExtensionNotRequested):
        await extension.decline(w.guarantor, g.id, "again")


async def test_a_guarantee_long_enough_needs_no_extension(db, manual_clock):
    # given a guarantee valid 30 days longer than the deadline plus the validity, and a deadline moved by 5 days
    w = await world()
    holder, g = await applied(w)
    g.valid_until = w.valid_until + timedelta(days=30)
    await g.save(update_fields=["valid_until"])
    await issuance.issue(w.guarantor, g.id, await letter(w, g))
    manual_clock.advance(timedelta(days=10))
    await clarifications.publish(w.tenderer, ClarificationForm(lot_id=w.lot.id, changes_documents=True, title="修改"))
    # then it is still security, and an extension is refused
    assert await registration.security_in_place(w.lot.id, holder.org_id or 0)
    with pytest.raises(GuaranteeAlreadyCovers):
        await extension.request(holder, g.id, g.valid_until + timedelta(days=1))


async def _applicant(g: Guarantee) -> Actor:
    return Actor(user_id=g.applied_by, org_id=g.applicant_id, roles=frozenset({Role.BIDDER}))
