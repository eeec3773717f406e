"""A guarantee a moved deadline left short is no security, with its typed reason: a new bid and a confirmation are
refused with GUARANTEE_VALIDITY_SHORT; one that still covers, and a bidder without any guarantee, are judged as
before."""

from __future__ import annotations

from datetime import timedelta

from domain.guarantees import issuance
from domain.registration import security
from domain.registration import services as registration
from domain.registration.security import GuaranteeValidityShortfall
from domain.tendering import clarifications
from domain.tendering.clarifications import ClarificationForm
from domain.tendering.errors import SecurityMissing
from domain.tendering.states import security_in_place
from tests.domain.guarantees.test_services import applied, bidder, issued, letter, world


async def test_a_moved_deadline_takes_the_security_of_a_guarantee_that_no_longer_covers_it(db, manual_clock):
    # given a tender with a guarantee valid for the deadline plus 90 days, one 30 days longer, and a bidder without
    w = await world()
    short_holder, _ = await issued(w)
    long_holder, long_one = await applied(w)
    long_one.valid_until = w.valid_until + timedelta(days=30)
    await long_one.save(update_fields=["valid_until"])
    await issuance.issue(w.guarantor, long_one.id, await letter(w, long_one))
    nothing = await bidder(w)
    assert await registration.security_in_place(w.lot.id, short_holder.org_id or 0)
    # when a change 10 days before the deadline moves it 5 days later
    manual_clock.advance(timedelta(days=10))
    await clarifications.publish(w.tenderer, ClarificationForm(lot_id=w.lot.id, changes_documents=True, title="修改"))
    now = manual_clock.now()
    # then the short guarantee is no security, with its reason and the validity now required
    assert not await registration.security_in_place(w.lot.id, short_holder.org_id or 0)
    why = await security.shortfall(w.lot.id, short_holder.org_id or 0, now)
    assert isinstance(why, GuaranteeValidityShortfall)
    assert why.params["required_until"] == now + timedelta(days=15 + 90)
    assert "展期" in why.message("zh")
    # and the bid guard refuses with it, not with the plain SECURITY_MISSING
    refused = security_in_place.check({"security": False, "security_short": why})
    assert refused is why
    assert isinstance(security_in_place.check({"security": False, "security_short": None}), SecurityMissing)
    # while the long one still covers, and a bidder without a guarantee has no particular reason
    assert await registration.security_in_place(w.lot.id, long_holder.org_id or 0)
    assert await security.shortfall(w.lot.id, long_holder.org_id or 0, now) is None
    assert await security.shortfall(w.lot.id, nothing.org_id or 0, now) is None
