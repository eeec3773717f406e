"""Masking of personal data and the publicity periods of public credit records."""

from __future__ import annotations

from datetime import timedelta

from domain.common import chronograph
from domain.credit.models import CreditPublication
from domain.credit_public import publicity
from domain.credit_public.publicity import PERIODS, Severity, mask
from tests.domain.factories import organisation


def test_identity_numbers_phones_and_labelled_names_are_masked():
    text = (
        "法定代表人：王建国，项目经理 李四，身份证370202198001011234，旧证370202800101123，"
        "手机13812345678，电话0532-88886666"
    )
    masked = mask(text)
    assert masked == (
        "法定代表人：王**，项目经理 李*，身份证370202************，旧证370202*********，手机138****5678，"
        "电话0532-********"
    )


def test_names_given_are_masked_wherever_they_appear():
    assert mask("经办人员赵六私下联系评委，赵六承认", ("赵六",)) == "经办人员赵*私下联系评委，赵*承认"


def test_credit_codes_and_amounts_are_left_as_they_are():
    text = "统一社会信用代码91370200MA3C1234X5，罚款50000元"
    assert mask(text) == text


def test_the_periods_follow_the_2023_measures():
    assert (PERIODS[Severity.GENERAL].minimum_days, PERIODS[Severity.GENERAL].publicity_days) == (90, 365)
    assert (PERIODS[Severity.SERIOUS].minimum_days, PERIODS[Severity.SERIOUS].publicity_days) == (365, 1095)
    assert all("2023年第58号" in p.basis for p in PERIODS.values())


async def test_a_publication_leaves_public_view_when_the_chronograph_passes_its_end(db, manual_clock):
    # given a general record published now
    org = await organisation(kinds=["bidder"])
    pub = await publicity.publish(
        organisation_id=org.id,
        severity=Severity.GENERAL,
        title="违约",
        summary="联系人：孙七，未按期履约",
        decided_at=manual_clock.now() - timedelta(days=10),
    )
    # then it is public until a year after the decision, repairable after three months, masked
    assert pub.public_until == pub.repairable_from + timedelta(days=275)
    assert pub.summary == "联系人：孙*，未按期履约"
    assert [p.id for p, _ in await publicity.public_records(20)] == [pub.id]

    # when the chronograph runs the day before its end, then on it
    manual_clock.advance(days=354)
    await chronograph.fire_due()
    assert (await CreditPublication.get(id=pub.id)).withdrawn_at is None
    manual_clock.advance(days=1, seconds=1)
    await chronograph.fire_due()

    # then it is withdrawn as expired, and no longer listed
    done = await CreditPublication.get(id=pub.id)
    assert (done.withdrawn_reason, done.next_check_at) == ("expired", None)
    assert await publicity.public_records(20) == []
