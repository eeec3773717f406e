"""Sealed bids and the opening (开标) as data.

Facts the services pass: `lot_status`, `now`, `deadline` (the bid deadline, or None), `registered`
and `security` (whether the bidder has a standing registration and the lot's security in place),
`bids` and `min_bids` (bids standing at the deadline, and how many the lot needs).
"""

from __future__ import annotations

from enum import StrEnum

from domain.common.actors import Role
from domain.common.errors import DomainError
from domain.common.lifecycle import SYSTEM, Facts, Lifecycle, guard, move
from domain.publication.states import LotStatus
from domain.registration.errors import NotRegistered
from domain.tendering.errors import BidDeadlinePassed, SecurityMissing


class BidStatus(StrEnum):
    SUBMITTED = "submitted"
    SUPERSEDED = "superseded"  # replaced by a later submission
    WITHDRAWN = "withdrawn"
    DECRYPTED = "decrypted"
    INVALID = "invalid"  # not decrypted in the window through the bidder's fault (撤销)
    PLATFORM_FAULT = "platform_fault"  # not decrypted because the platform failed (撤回): not held against the bidder
    # submitted before a material change of the documents (澄清、修改): stands again only once its bidder confirms it
    UNCONFIRMED = "unconfirmed"
    LAPSED = "lapsed"  # still unconfirmed at the deadline: treated as withdrawn before it, never opened
    RETURNED = "returned"  # the lot was terminated before it was opened: returned to its bidder unopened


class OpeningStatus(StrEnum):
    SCHEDULED = "scheduled"
    DECRYPTING = "decrypting"
    CLOSED = "closed"
    FAILED = "failed"  # 流标: too few bids at the deadline
    VOID = "void"  # the lot had left bidding by its deadline (terminated, or moved on by hand): nothing to open


@guard("the lot is open and before the bid deadline, on server time (BidDeadlinePassed)")
def before_deadline(facts: Facts) -> DomainError | None:
    deadline, now = facts["deadline"], facts["now"]
    if facts["lot_status"] != LotStatus.OPEN.value or deadline is None or now >= deadline:
        return BidDeadlinePassed(deadline=deadline or now)
    return None


@guard("a standing registration (NotRegistered)")
def registered(facts: Facts) -> DomainError | None:
    return None if facts["registered"] else NotRegistered()


@guard(
    "the lot's security in place: a paid deposit or an issued guarantee covering the deadline plus the bid validity "
    "(SecurityMissing; GuaranteeValidityShortfall for a guarantee a moved deadline left short)"
)
def security_in_place(facts: Facts) -> DomainError | None:
    if facts["security"]:
        return None
    short: DomainError | None = facts.get("security_short")
    return short or SecurityMissing()


B = BidStatus
BID: Lifecycle[BidStatus] = Lifecycle(
    name="SealedBid",
    states=BidStatus,
    doc="A bidder's sealed bid: the platform keeps the ciphertext until the bidder decrypts it at the opening.",
    transitions=(
        move("submit", None, B.SUBMITTED, by={Role.BIDDER}, guards=[before_deadline, registered, security_in_place]),
        move(
            "supersede",
            {B.SUBMITTED, B.UNCONFIRMED},
            B.SUPERSEDED,
            by={Role.BIDDER},
            note="the same bidder submits again",
        ),
        move("withdraw", {B.SUBMITTED, B.UNCONFIRMED}, B.WITHDRAWN, by={Role.BIDDER}, guards=[before_deadline]),
        move(
            "flag",
            B.SUBMITTED,
            B.UNCONFIRMED,
            by={SYSTEM},
            note="a clarification changed the documents after it was submitted (domain/publication/clarifications)",
        ),
        move(
            "confirm",
            B.UNCONFIRMED,
            B.SUBMITTED,
            by={Role.BIDDER},
            guards=[before_deadline, registered, security_in_place],
            note="its bidder confirms it stands under the changed documents, before the (moved) deadline",
        ),
        # Prozorro invalidates bids on a change of the tender's conditions until each bidder re-activates its own;
        # here a bid prepared under documents since changed that its bidder did not stand by at the deadline is
        # treated as withdrawn before the deadline (招标投标法 第二十九条: 截止时间前可以补充、修改或者撤回): it is not
        # opened, counts for no min_bids, and costs the bidder no security (实施条例 第三十五条 forfeits it only for a
        # withdrawal after the deadline)
        move(
            "lapse",
            B.UNCONFIRMED,
            B.LAPSED,
            by={SYSTEM},
            timed=True,
            note="still unconfirmed at the deadline: treated as withdrawn, never opened",
        ),
        # 招标投标法实施条例 第三十一条: a terminated tender is announced and what was collected is returned; a sealed
        # bid (confirmed or still flagged by a change) is returned unopened, as the deposits are (the bid files'
        # return is this platform's reading of the article: unverified)
        move(
            "return",
            {B.SUBMITTED, B.UNCONFIRMED},
            B.RETURNED,
            by={SYSTEM},
            note="the lot was terminated before its bids were opened: returned unopened",
        ),
        move("decrypt", B.SUBMITTED, B.DECRYPTED, note="its bidder, inside the opening's decryption window"),
        move(
            "invalidate",
            B.SUBMITTED,
            B.INVALID,
            by={SYSTEM},
            timed=True,
            note="not decrypted when the window closes (撤销)",
        ),
        move(
            "excuse",
            {B.SUBMITTED, B.INVALID},
            B.PLATFORM_FAULT,
            by={Role.OPERATOR},
            note="the platform failed the bidder during the window (撤回)",
        ),
    ),
    initial=frozenset({B.SUBMITTED}),
    final=frozenset({B.SUPERSEDED, B.WITHDRAWN, B.DECRYPTED, B.PLATFORM_FAULT, B.LAPSED, B.RETURNED}),
)


@guard("the lot is no longer open at the deadline")
def lot_left_bidding(facts: Facts) -> DomainError | None:
    return None if facts["lot_status"] != LotStatus.OPEN.value else _not_yet()


# 招标投标法 第二十八条: fewer than three bidders, the tender is held again; nothing is opened
@guard("fewer bids than min_bids (default 3) stand at the deadline (招标投标法 第二十八条)")
def too_few_bids(facts: Facts) -> DomainError | None:
    return None if facts["bids"] < facts["min_bids"] else _not_yet()


@guard("enough bids stand at the deadline")
def enough_bids(facts: Facts) -> DomainError | None:
    return None if facts["bids"] >= facts["min_bids"] else _not_yet()


def _not_yet() -> DomainError:
    return DomainError()


OP = OpeningStatus
OPENING: Lifecycle[OpeningStatus] = Lifecycle(
    name="Opening",
    states=OpeningStatus,
    doc="The opening of a sealed tender: at the bid deadline the chronograph starts it (or fails or voids it); "
    "bidders decrypt during the window; when it ends the opening closes.",
    transitions=(
        move("schedule", None, OP.SCHEDULED, by={SYSTEM}, note="the tender announcement is published"),
        move("void", OP.SCHEDULED, OP.VOID, by={SYSTEM}, timed=True, guards=[lot_left_bidding], note="at the deadline"),
        move("fail", OP.SCHEDULED, OP.FAILED, by={SYSTEM}, timed=True, guards=[too_few_bids], note="at the deadline"),
        move(
            "start",
            OP.SCHEDULED,
            OP.DECRYPTING,
            by={SYSTEM},
            timed=True,
            guards=[enough_bids],
            note="at the deadline, or when a suspension holding it was lifted",
        ),
        move("close", OP.DECRYPTING, OP.CLOSED, by={SYSTEM}, timed=True, note="the decryption window ended"),
    ),
    initial=frozenset({OP.SCHEDULED}),
    final=frozenset({OP.VOID, OP.FAILED, OP.CLOSED}),
)
