"""A deadline moved by a change of the documents re-checks the lot's issued guarantees: one whose validity no longer
covers the new deadline plus the bid validity period tells its applicant (and guarantor), once; one long enough and
one not yet issued are left alone."""

from __future__ import annotations

from datetime import timedelta

from tortoise.expressions import F

from domain.accounts.models import Organisation
from domain.common.clock import shanghai_text
from domain.common.models import OutboxEvent
from domain.common.reactions import decode
from domain.deposits.models import DepositAccount
from domain.guarantees import issuance, workflows
from domain.publication.events import LotDeadlineMoved
from domain.tendering import clarifications
from domain.tendering.clarifications import ClarificationForm
from notifications.rules import RULES
from tests.domain.factories import user
from tests.domain.guarantees.test_services import applied, issued, letter, world


async def test_a_moved_deadline_tells_the_holder_of_a_guarantee_that_no_longer_covers_it(db, manual_clock):
    # given a tender due in 20 days with a guarantee valid for the deadline plus 90 days, one valid 30 days longer,
    # and one only applied for
    w = await world()
    short_holder, short = await issued(w)
    long_holder, long_one = await applied(w)
    long_one.valid_until = w.valid_until + timedelta(days=30)
    await long_one.save(update_fields=["valid_until"])
    await issuance.issue(w.guarantor, long_one.id, await letter(w, long_one))
    await applied(w)
    await user(await Organisation.get(id=short_holder.org_id))
    # when a change of the documents comes 10 days before the deadline, and its event is delivered twice
    manual_clock.advance(timedelta(days=10))
    await clarifications.publish(w.tenderer, ClarificationForm(lot_id=w.lot.id, changes_documents=True, title="修改"))
    [moved] = await OutboxEvent.filter(type=LotDeadlineMoved.type)
    for _ in range(2):
        await workflows.recheck_on_deadline_moved(decode(LotDeadlineMoved, moved))
    # then the deadline is 15 days out, and only the short guarantee's holder and guarantor are told, once
    new_deadline = manual_clock.now() + timedelta(days=15)
    assert decode(LotDeadlineMoved, moved).after == new_deadline
    [flagged] = await OutboxEvent.filter(type="guarantee.validity_short")
    assert flagged.object_id == str(short.id)
    assert flagged.payload["required_until"] == (new_deadline + timedelta(days=90)).isoformat()
    assert set(flagged.audience["orgs"]) == {short_holder.org_id, w.guarantor.org_id}
    assert long_holder.org_id not in flagged.audience["orgs"]
    [notice] = await RULES[flagged.type](flagged)
    assert notice.title_zh == "保函有效期不足"
    assert shanghai_text(new_deadline) in notice.body_zh
    assert shanghai_text(new_deadline + timedelta(days=90)) in notice.body_en


async def test_a_guarantee_that_is_not_the_bids_security_is_not_flagged(db, manual_clock):
    # given two bidders with guarantees that a moved deadline leaves short, the second of which also paid its deposit
    w = await world()
    _, needed = await issued(w)
    payer, spare = await issued(w)
    paid = await DepositAccount.filter(lot_id=w.lot.id, organisation_id=payer.org_id).update(
        status="paid", paid_fen=F("amount_due_fen"), paid_at=manual_clock.now()
    )
    assert paid == 1
    # when a change of the documents moves the deadline
    manual_clock.advance(timedelta(days=10))
    await clarifications.publish(w.tenderer, ClarificationForm(lot_id=w.lot.id, changes_documents=True, title="修改"))
    [moved] = await OutboxEvent.filter(type=LotDeadlineMoved.type)
    await workflows.recheck_on_deadline_moved(decode(LotDeadlineMoved, moved))
    # then only the guarantee that is its bid's security is flagged: the deposit is the payer's security
    flagged = await OutboxEvent.filter(type="guarantee.validity_short").values_list("object_id", flat=True)
    assert flagged == [str(needed.id)]
    assert spare.id != needed.id
